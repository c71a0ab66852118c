"""Run a command against a throwaway PostgreSQL server:

    python -m ceu.testing.postgres -- pytest -m "not browser"

DATABASE_URL points the command at the fresh server, which is removed when the command ends.
Without PostgreSQL installed the pass is skipped with one line, or fails under CI=true.
"""

import os
import subprocess
import sys

from .services import ServiceUnavailable, in_ci, postgres_server


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        server = postgres_server()
        url = server.__enter__()
    except ServiceUnavailable as missing:
        print(f"PostgreSQL pass {'FAILED' if in_ci() else 'skipped'}: {missing}", file=sys.stderr)
        return 1 if in_ci() else 0
    try:
        print(f"PostgreSQL pass: DATABASE_URL={url}", flush=True)
        return subprocess.run(argv, env={**os.environ, "DATABASE_URL": url}, check=False).returncode
    finally:
        server.__exit__(None, None, None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
