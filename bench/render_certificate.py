"""Render time and memory of one certificate PDF, side by side with a minimal one-page
WeasyPrint document rendered the same way, in the same process.

    .venv/bin/python bench/render_certificate.py [--runs 30]
"""

import argparse
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


def measure(label: str, render, runs: int) -> float:
    render()  # warm up: fonts loaded, caches filled
    times = []
    for _run in range(runs):
        start = time.perf_counter()
        render()
        times.append((time.perf_counter() - start) * 1000)
    tracemalloc.start()
    render()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = statistics.median(times)
    p95 = sorted(times)[int(len(times) * 0.95) - 1]
    print(
        f"{label:<22} median {median:7.1f} ms   p95 {p95:7.1f} ms   "
        f"peak Python memory {peak / 1e6:6.1f} MB"
    )
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    url = "https://ce.example.org/verify/CEU-7K3M-Q9XZ-4T2P-HW8C/"
    baseline = measure("minimal one-page PDF", minimal_pdf, args.runs)
    certificate = measure(
        "certificate (PDF/A-3b)",
        lambda: render_certificate_pdf(SNAPSHOT, verify_url=url),
        args.runs,
    )
    print(f"certificate / baseline: {certificate / baseline:.1f}x over {args.runs} runs each")
    # A colour emoji in the name costs more than any script: WeasyPrint rewrites the emoji font
    # (about 10 MB) with fontTools to embed it without its pictures, and draws each as an image.
    emoji = {**SNAPSHOT, "learner_name": "Zoë Ramírez-Núñez \U0001f469\u200d\u2695\ufe0f"}
    with_emoji = measure(
        "certificate, emoji",
        lambda: render_certificate_pdf(emoji, verify_url=url),
        args.runs,
    )
    print(f"emoji name / baseline: {with_emoji / baseline:.1f}x")


if __name__ == "__main__":
    main()
