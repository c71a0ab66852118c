"""Certificate codes: 75 random bits in an alphabet without look-alike characters, grouped for
reading aloud, with a check character so a typo is told apart from a code never issued.

    CEU-7K3M-Q9XZ-4T2P-HW8C   (15 random characters and one check character)
"""

import secrets
from enum import Enum

# No 0/O, 1/I: the characters people misread on paper and on the phone.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PREFIX = "CEU"
RANDOM_LENGTH = 15  # 15 x 5 bits = 75 bits
GROUP = 4


def _check_character(body: str) -> str:
    """Luhn mod 32: catches every single-character error and most swaps of neighbours."""
    factor, total, base = 2, 0, len(ALPHABET)
    for char in reversed(body):
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // base + addend % base
    return ALPHABET[(base - total % base) % base]


def _format(compact: str) -> str:
    groups = [compact[i : i + GROUP] for i in range(0, len(compact), GROUP)]
    return "-".join([PREFIX, *groups])


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _index in range(RANDOM_LENGTH))
    return _format(body + _check_character(body))


class CodeProblem(Enum):
    MALFORMED = "malformed"
    TYPO = "typo"


def parse_code(text: str) -> tuple[str | None, CodeProblem | None]:
    """A typed code in canonical form, accepting any case, spaces and dashes, with or without
    the prefix; or why it cannot be one."""
    compact = "".join(char for char in (text or "").upper() if char not in " -\t\n")
    if compact.startswith(PREFIX) and len(compact) == len(PREFIX) + RANDOM_LENGTH + 1:
        compact = compact[len(PREFIX) :]
    if len(compact) != RANDOM_LENGTH + 1 or any(char not in ALPHABET for char in compact):
        return None, CodeProblem.MALFORMED
    body, check = compact[:-1], compact[-1]
    if _check_character(body) != check:
        return None, CodeProblem.TYPO
    return _format(compact), None
