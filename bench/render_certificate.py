"""Render time and memory of one certificate PDF, side by side with a minimal one-page
WeasyPrint document rendered the same way, in the same process.

    .venv/bin/python bench/render_certificate.py [--runs 30]
    .venv/bin/python bench/render_certificate.py --renders 1000

Every run renders a certificate of its own (its own code, so its own QR code and record, its own
learner's name and licence number), as a worker does: nothing a cache kept from an earlier run
can stand in for it. Baseline and certificate runs alternate, so a machine that gets busier
part-way slows both alike. Times are wall-clock, with the process's CPU time beside them (the
figure to trust on a busy machine).

`--renders N` is the memory check instead: the resident set (RSS) of this process after a
warm-up (one certificate per script a name may be written in), then after N more certificates,
each with a name of its own, the scripts in turn. It fails (exit status 1) past 50 MB of growth.
"""

import argparse
import itertools
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ceu.settings.test")

import django

django.setup()

from courses.services.certificate_pdf import minimal_pdf, render_certificate_pdf  # noqa: E402

SNAPSHOT = {
    "code": "CEU-7K3M-Q9XZ-4T2P-HW8C",
    "learner_name": "Zoë Ramírez-Núñez",
    "licences": [
        {
            "profession": "Clinical social worker",
            "jurisdiction": "New York",
            "jurisdiction_code": "NY",
            "number": "LCSW-R 0123456",
        },
    ],
    "course_title": "When Clients Disappear: Ruptures, Ghosting, and Re-Engaging Stuck Clients",
    "ce_hours": "0.5",
    "format": "Home study: recorded audio",
    "completion_date": "2026-11-26",
    "presenter": "Jordan Avery, PhD, LMFT",
    "provider": {
        "name": "Sample CE Provider (demo)",
        "address": "100 Example Street\nSpringfield",
        "email": "ce@example.org",
        "phone": "(555) 010-0100",
        "website": "https://ce.example.org",
        "configured": False,
    },
    "approvals": [
        {
            "accreditor": "ASWB ACE",
            "accreditor_name": "Association of Social Work Boards",
            "provider_number": "SAMPLE-0000",
            "hours": "0.5",
            "credit_type": "clinical",
            "approval_code": "SAMPLE-001",
            "professions": ["clinical_social_worker"],
            "statement": "Sample CE Provider (demo), provider #SAMPLE-0000, is approved as an ACE "
            "provider to offer social work continuing education by the Association of Social Work "
            "Boards (ASWB) Approved Continuing Education (ACE) program.",
        },
    ],
    "issued_at": "2026-11-26T14:03:00+00:00",
}


# Names in the scripts the glyph tests cover: a worker meets them all, and each loads its fonts.
NAMES = [
    "Zoë Ramírez-Núñez",
    "Nguyễn Thị Hương",
    "Ελένη Παπαδοπούλου",
    "Анастасия Шевченко",
    "محمد الأحمد",
    "שרה כהן",
    "王小明",
    "山田 さくら",
    "김민준",
    "अनन्या शर्मा",
    "Sam \U0001f44d\U0001f3fd",
]
RSS_GROWTH_LIMIT_MB = 50
_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


# Learners' names, a different one for each certificate (400 of them before one comes again): the
# renderer keeps the lines of text it has laid out, and a name printed before would be one of them.
FIRST_NAMES = [
    "Zoë", "Amara", "Jonas", "Inés", "Kwame", "Saoirse", "Mateo", "Priya", "Björn", "Léa",
    "Tomasz", "Yuki", "Dário", "Chiamaka", "Rafael", "Hanna", "Émile", "Noor", "Søren", "Lucía",
]  # fmt: skip
LAST_NAMES = [
    "Ramírez-Núñez", "Okafor", "Lindqvist", "Moreau", "Nakamura", "Kowalczyk", "Fitzgerald",
    "Haddad", "Brontë", "Castillo", "Weiß", "Abernathy", "Gonçalves", "Østergaard", "Mensah",
    "Delacroix", "Szabó", "Whitfield", "Quiñones", "Vasquez",
]  # fmt: skip


def learner_name(index: int) -> str:
    count = len(FIRST_NAMES)
    return f"{FIRST_NAMES[index % count]} {LAST_NAMES[(index // count) % len(LAST_NAMES)]}"


def certificate(index: int, name: str | None = None) -> tuple[dict, str]:
    """The bench's certificate with a code (and so a verify address and QR code), a learner's
    name and a licence number of its own."""
    digits = "".join(_ALPHABET[(index // len(_ALPHABET) ** k) % len(_ALPHABET)] for k in range(4))
    code = f"CEU-7K3M-Q9XZ-{digits}-HW8C"
    licences = [{**SNAPSHOT["licences"][0], "number": f"LCSW-R {index % 10_000_000:07d}"}]
    return {
        **SNAPSHOT,
        "code": code,
        "learner_name": name or learner_name(index),
        "licences": licences,
    }, f"https://ce.example.org/verify/{code}/"


def render_nth(index: int, name: str | None = None) -> bytes:
    snapshot, url = certificate(index, name)
    return render_certificate_pdf(snapshot, verify_url=url)


def timed(render) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    render()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def peak_memory(render) -> float:
    tracemalloc.start()
    render()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def compare(label: str, baseline, renders, runs: int) -> None:
    """`runs` renders of `renders(i)` alternating with the baseline's; medians and ratios."""
    baseline()  # warm up: fonts loaded, stylesheet parsed
    renders(-1)
    base, cert = [], []
    for run in range(runs):
        base.append(timed(baseline))
        cert.append(timed(lambda run=run: renders(run)))
    for name, times, peak in (
        ("minimal one-page PDF", base, peak_memory(baseline)),
        (label, cert, peak_memory(lambda: renders(runs))),
    ):
        wall = sorted(t[0] for t in times)
        print(
            f"{name:<24} median {statistics.median(wall):7.1f} ms   "
            f"p95 {wall[int(len(wall) * 0.95) - 1]:7.1f} ms   "
            f"CPU median {statistics.median(t[1] for t in times):7.1f} ms   "
            f"peak Python memory {peak:6.1f} MB"
        )
    wall_ratio = statistics.median(t[0] for t in cert) / statistics.median(t[0] for t in base)
    cpu_ratio = statistics.median(t[1] for t in cert) / statistics.median(t[1] for t in base)
    print(f"{label} / baseline: {wall_ratio:.1f}x wall, {cpu_ratio:.1f}x CPU over {runs} runs each")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def memory(renders: int) -> int:
    for index, name in enumerate(NAMES):  # warm up: every script's fonts loaded once
        render_nth(-1 - index, name)
    before = rss_mb()
    start = time.perf_counter()
    names = itertools.cycle(NAMES)
    for index in range(renders):
        # Each name of its own: every script's, with a Latin name after it.
        render_nth(index, f"{next(names)} {learner_name(index)}")
    elapsed = time.perf_counter() - start
    after = rss_mb()
    growth = after - before
    verdict = "within" if growth <= RSS_GROWTH_LIMIT_MB else "OVER"
    print(
        f"RSS after warm-up {before:7.1f} MB, after {renders} more certificates {after:7.1f} MB: "
        f"{growth:+.1f} MB ({verdict} the {RSS_GROWTH_LIMIT_MB} MB limit); "
        f"{elapsed / renders * 1000:.1f} ms per certificate"
    )
    return 0 if growth <= RSS_GROWTH_LIMIT_MB else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--renders", type=int, default=0, help="check memory over this many renders instead"
    )
    args = parser.parse_args()
    if args.renders:
        sys.exit(memory(args.renders))
    compare("certificate (PDF/A-3b)", minimal_pdf, render_nth, args.runs)
    # A colour emoji in the name costs more than any script: WeasyPrint rewrites the emoji font
    # (about 10 MB) with fontTools to embed it without its pictures, and draws each as an image.
    emoji = " \U0001f469\u200d\u2695\ufe0f"
    compare(
        "certificate, emoji",
        minimal_pdf,
        lambda i: render_nth(10_000 + i, learner_name(10_000 + i) + emoji),
        args.runs,
    )


if __name__ == "__main__":
    main()
