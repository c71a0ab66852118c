"""Pages under load on the production stack, beside a minimal Django app on the same PostgreSQL
server: each page's requests per second as a share of the baseline's "one-query" view.

    .venv/bin/python bench/pages.py [--learners 20000] [--duration 8] [--quick]

What it does, and stops and removes whatever happens:
- a throwaway PostgreSQL and Redis (ceu/testing/services.py), seeded with the demo trainings and
  --learners learners with their enrollments, lesson progress, post-tests, evaluations and
  certificates (bench/_seed.py: a few through the services, the rest copied in bulk), after
  counting each page's queries at --small learners and again at --learners;
- the production stack on them, as `make prod LOCAL_HTTP=1` starts it (scripts/prod: gunicorn
  with --web-workers 2 and ceu.settings.production, a Celery worker and beat), with the public
  lookups' rate limits raised through CEU_RATE_LIMITS for this run only;
- the baseline (bench/baseline/) under gunicorn with 2 sync workers: "one-query" does one lookup
  by an indexed column of its own 20,000-row table and renders a tiny template; "hello" returns a
  short HTML string;
- wrk on every page for --duration seconds a round, for --rounds rounds, beside as long a run
  of the baseline: both in --slices short slices taken in turn, so that whatever else the
  machine is doing weighs on both alike.
  Verify and API requests pick a certificate code at random among --codes seeded ones; the
  learner pages and heartbeats rotate among --sessions signed-in learners' cookies (and CSRF
  tokens). Any answer but 2xx counts as an error, and a page with errors is flagged.

Needs PostgreSQL, redis-server and wrk from Debian (`make bench` installs them as root).
"""

# It runs the project's own interpreter, scripts and fixed system tools.
# ruff: noqa: S603, S607

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from ceu.testing.services import (  # noqa: E402 - after the path is set
    ServiceUnavailable,
    free_port,
    postgres_server,
    redis_server,
)

PYTHON = sys.executable
BASELINE_ROWS = 20000
# Far above what one address sends in a run: the limiter still counts every lookup.
RATE_LIMITS = "verify=1000000000,verify_api=1000000000,verify_pdf=1000000000"


@dataclass(frozen=True)
class Page:
    name: str
    label: str
    target: int  # per cent of the baseline's one-query view (issue 13)
    learner: bool = False


PAGES = [
    Page("verify", "verify page /verify/<code>/", 60),
    Page("api", "API GET /api/v1/certificates/<code>", 60),
    Page("catalog", "catalog /courses/", 30),
    Page("course", "course page, anonymous", 30),
    Page("lesson", "lesson page, learner", 30, learner=True),
    Page("my-trainings", "My trainings", 30, learner=True),
    Page("transcript", "transcript", 30, learner=True),
    Page("heartbeat", "heartbeat POST, 50 learners beating", 30, learner=True),
]


def say(message: str) -> None:
    print(f"pages: {message}", flush=True)


class Stop(Exception):
    """SIGTERM: stop everything."""


def _on_signal(signum, frame) -> None:
    raise Stop(signal.Signals(signum).name)


# --- The requests each page is loaded with --------------------------------------------------------


def requests_for(page: Page, state: dict) -> list[tuple[str, str, dict, str | None]]:
    """(method, path, headers, body) variants; wrk picks one at random for each request."""
    sessions = state["sessions"]

    def signed_in(method: str, path: str, body: str | None = None) -> list:
        variants = []
        for session in sessions:
            headers = {"Cookie": session["cookie"]}
            if method == "POST":
                headers |= {"X-CSRFToken": session["csrf"], "Content-Type": "application/json"}
            variants.append((method, path, headers, body))
        return variants

    if page.name == "verify":
        return [("GET", f"/verify/{code}/", {}, None) for code in state["codes"]]
    if page.name == "api":
        return [("GET", f"/api/v1/certificates/{code}", {}, None) for code in state["codes"]]
    if page.name == "catalog":
        return [("GET", "/courses/", {}, None)]
    if page.name == "course":
        return [("GET", f"/courses/{slug}/", {}, None) for slug in state["course_slugs"]]
    if page.name == "lesson":
        return signed_in("GET", state["lesson_path"])
    if page.name == "my-trainings":
        return signed_in("GET", "/my/trainings/")
    if page.name == "transcript":
        return signed_in("GET", "/my/transcript/")
    if page.name == "heartbeat":
        return signed_in("POST", state["heartbeat_path"], state["heartbeat_body"])
    raise ValueError(page.name)


def _lua(value) -> str:
    if value is None:
        return "nil"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items()) + "}"
    # ASCII only (ensure_ascii): JSON's \" and \\ escapes are Lua's too.
    return json.dumps(str(value), ensure_ascii=True)


LUA = """
local variants = {
%(variants)s
}
local threads = {}
local numbered = 0

function setup(thread)
  numbered = numbered + 1
  thread:set("number", numbered)
  table.insert(threads, thread)
end

function init(args)
  prepared = {}
  for i, v in ipairs(variants) do
    prepared[i] = wrk.format(v[1], v[2], v[3], v[4])
  end
  math.randomseed(number * 7919 + os.time())
  bad = 0
  first_bad = 0
end

function request()
  return prepared[math.random(#prepared)]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    if first_bad == 0 then first_bad = status end
  end
end

function done(summary, latency, requests)
  local non2xx, first = 0, 0
  for _, thread in ipairs(threads) do
    non2xx = non2xx + (thread:get("bad") or 0)
    if first == 0 then first = thread:get("first_bad") or 0 end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %%d, "duration_us": %%d, "bytes": %%d, "socket_errors": %%d,'
    .. ' "timeouts": %%d, "non2xx": %%d, "first_bad": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write,
    e.timeout, non2xx, first, latency:percentile(50), latency:percentile(99)))
end
"""


def write_script(path: Path, variants: list) -> Path:
    rows = ",\n".join(
        "  {" + ", ".join(_lua(part) for part in variant) + "}" for variant in variants
    )
    path.write_text(LUA % {"variants": rows}, encoding="ascii")
    return path


@dataclass
class Run:
    requests: int = 0
    seconds: float = 0.0
    bytes: int = 0
    errors: int = 0
    first_bad: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    failed: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def kib_per_response(self) -> float:
        return self.bytes / self.requests / 1024 if self.requests else 0.0


def combined(runs: list[Run]) -> Run:
    """Slices of one measurement as one: totals, the median latency weighted by requests, the
    worst 99th percentile."""
    requests = sum(run.requests for run in runs)
    return Run(
        requests=requests,
        seconds=sum(run.seconds for run in runs),
        bytes=sum(run.bytes for run in runs),
        errors=sum(run.errors for run in runs),
        first_bad=next((run.first_bad for run in runs if run.first_bad), 0),
        p50_ms=sum(run.p50_ms * run.requests for run in runs) / requests if requests else 0.0,
        p99_ms=max((run.p99_ms for run in runs), default=0.0),
        failed="; ".join(run.failed for run in runs if run.failed),
    )


def wrk(url: str, script: Path, options: argparse.Namespace, seconds: float) -> Run:
    command = [
        "wrk",
        f"-t{options.threads}",
        f"-c{options.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        return Run(failed=(done.stderr or done.stdout).strip()[-300:] or "wrk printed nothing")
    data = json.loads(line[len("BENCH ") :])
    return Run(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        bytes=data["bytes"],
        errors=data["non2xx"] + data["socket_errors"] + data["timeouts"],
        first_bad=data["first_bad"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


# --- Servers ------------------------------------------------------------------------------------


def answers(url: str, *, method: str = "GET", headers=None, body=None, timeout: float = 10):
    """(status, bytes) of one request, redirects not followed; (None, 0) when nothing answers."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(  # noqa: S310 - loopback
        url, method=method, headers=headers or {}, data=body.encode() if body else None
    )
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=timeout) as response:
            return response.status, len(response.read())
    except urllib.error.HTTPError as error:
        return error.code, 0
    except OSError:
        return None, 0


def wait_for(url: str, process: subprocess.Popen, name: str, log: Path, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while answers(url, timeout=2)[0] != 200:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode}; its log:\n{tail(log)}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{name} did not answer within {timeout:.0f} s; its log:\n{tail(log)}")
        time.sleep(0.5)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(process: subprocess.Popen | None, name: str, timeout: float) -> None:
    """SIGTERM, and its whole group killed if it has not gone within `timeout`."""
    if process is None or process.poll() is not None:
        return
    say(f"stopping {name}")
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        say(f"{name} did not stop in {timeout:.0f} s: killed")
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@dataclass
class Stack:
    processes: dict = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: dict, log: Path) -> subprocess.Popen:
        with open(log, "wb") as out:
            # A session of its own: a terminal's Ctrl-C reaches this script, which stops it.
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def stop_all(self) -> None:
        # scripts/prod stops its gunicorn, beat and worker in order itself.
        stop(self.processes.get("baseline"), "the baseline", 30)
        stop(self.processes.get("site"), "the production stack", 120)


# --- The run ------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20000)
    parser.add_argument("--small", type=int, default=100, help="learners at the first count")
    parser.add_argument("--duration", type=float, default=8, help="seconds per wrk run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds per page, discarded")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--slices",
        type=int,
        default=4,
        help="each run split in this many slices, taken in turn with the baseline's",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=8, help="wrk -c")
    parser.add_argument("--sessions", type=int, default=50, help="signed-in learners rotated")
    parser.add_argument("--codes", type=int, default=1000, help="certificate codes rotated")
    parser.add_argument("--pages", default="", help="only these, by name: verify,api,...")
    parser.add_argument(
        "--quick", action="store_true", help="2,000 learners, 3 s runs: a try in a few minutes"
    )
    options = parser.parse_args(argv)
    if options.quick:
        options.learners = min(options.learners, 2000)
        options.duration = min(options.duration, 3)
        options.warmup = min(options.warmup, 1)
    pages = PAGES
    if options.pages:
        wanted = set(options.pages.split(","))
        pages = [page for page in PAGES if page.name in wanted]
        if unknown := wanted - {page.name for page in PAGES}:
            parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    if options.learners < 12 * options.sessions:
        parser.error(f"--learners must be at least {12 * options.sessions} for the sessions")
    if not shutil.which("wrk"):
        say("wrk is not installed: sudo apt-get install --no-install-recommends wrk")
        return 2

    signal.signal(signal.SIGTERM, _on_signal)
    stack = Stack()
    workdir = Path(tempfile.mkdtemp(prefix="ceu-bench-pages-"))
    try:
        with contextlib.ExitStack() as services:
            return run(options, pages, stack, services, workdir)
    except (Stop, KeyboardInterrupt) as stopped:
        say(f"{type(stopped).__name__} {stopped}: stopping")
        return 130
    except ServiceUnavailable as missing:
        say(str(missing))
        return 2
    except subprocess.CalledProcessError as failed:
        say(f"{' '.join(map(str, failed.cmd[1:3]))} failed with {failed.returncode}")
        return 1
    finally:
        # Normally already stopped, before the services went; again here for an early exit.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
        say("stopped; temporary folders removed")


def run(options, pages, stack: Stack, services: contextlib.ExitStack, workdir: Path) -> int:
    database_url = services.enter_context(postgres_server())
    redis_url = services.enter_context(redis_server())
    # Leaves before the servers do (last in, first out).
    services.callback(stack.stop_all)
    site_port, baseline_port = free_port(), free_port()
    site = f"http://127.0.0.1:{site_port}"
    baseline = f"http://127.0.0.1:{baseline_port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CEU_PROD_REEXEC", "CEU_PROD_STACK", "PYTHONPATH")
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "ceu.settings.production",
        "DATABASE_URL": database_url,
        "CACHE_URL": f"{redis_url}/2",
        "CELERY_BROKER_URL": f"{redis_url}/0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CEU_LOCAL_HTTP": "1",
        "CEU_SITE_URL": site,
        "CEU_RATE_LIMITS": RATE_LIMITS,
        "MEDIA_ROOT": str(workdir / "media"),
        "STATIC_ROOT": str(workdir / "static"),
        "EMAIL_URL": "dummymail://",
    }
    # Certificates are signed (PDF and credential) as on a deployed site, with keys that go
    # with the run, as scripts/prod makes them (after migrating: the signer is the provider).
    keys = workdir / "keys"
    for command in (["migrate", "--noinput"], ["create_signing_key", "--dir", str(keys)]):
        subprocess.run(
            [PYTHON, "manage.py", *command, "-v", "0"],
            cwd=ROOT,
            env={**env, "DJANGO_LOG_LEVEL": "WARNING"},
            check=True,
        )
    env |= {
        "CEU_CREDENTIAL_KEY_FILE": str(keys / "credential-key.jwk"),
        "CEU_SIGNING_KEY_FILE": str(keys / "document-signing-key.pem"),
        "CEU_SIGNING_CERT_FILE": str(keys / "document-signing-cert.pem"),
    }

    say(f"seeding {options.learners:,} learners (counting queries at {options.small})")
    state_file = workdir / "state.json"
    started = time.perf_counter()
    subprocess.run(
        [
            PYTHON,
            str(BENCH / "_seed.py"),
            str(state_file),
            f"--learners={options.learners}",
            f"--small={options.small}",
            f"--sessions={options.sessions}",
            f"--codes={options.codes}",
        ],
        cwd=ROOT,
        # Tasks in-process while seeding: the few certificates issued through the services are
        # rendered there, not queued for the worker.
        env={**env, "CELERY_BROKER_URL": "", "DJANGO_LOG_LEVEL": "WARNING"},
        check=True,
    )
    state = json.loads(state_file.read_text())
    say(f"seeded in {time.perf_counter() - started:.0f} s")
    baseline_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "baseline.settings",
        "PYTHONPATH": str(BENCH),
    }
    subprocess.run(
        [PYTHON, "-m", "django", "seed_baseline", str(BASELINE_ROWS)],
        cwd=ROOT,
        env=baseline_env,
        check=True,
    )

    say("starting the production stack (scripts/prod) and the baseline")
    site_log, baseline_log = workdir / "site.log", workdir / "baseline.log"
    prod = stack.start(
        "site",
        [
            PYTHON,
            str(ROOT / "scripts" / "prod"),
            "--bind",
            f"127.0.0.1:{site_port}",
            "--web-workers",
            "2",
        ],
        env,
        site_log,
    )
    base = stack.start(
        "baseline",
        [
            PYTHON,
            "-m",
            "gunicorn",
            "baseline.wsgi:application",
            "--bind",
            f"127.0.0.1:{baseline_port}",
            "--workers",
            "2",
            "--pythonpath",
            str(BENCH),
            # As scripts/prod runs the site's: every request logged.
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "20",
        ],
        baseline_env,
        baseline_log,
    )
    wait_for(f"{site}/health/live", prod, "the production stack", site_log)
    one_query = f"/one-query/ITEM-{BASELINE_ROWS // 2:06d}/"
    wait_for(f"{baseline}{one_query}", base, "the baseline", baseline_log)

    scripts = {}
    problems: list[str] = []
    for page in pages:
        variants = requests_for(page, state)
        scripts[page.name] = write_script(workdir / f"{page.name}.lua", variants)
        method, path, headers, body = variants[0]
        status, size = answers(f"{site}{path}", method=method, headers=headers, body=body)
        say(f"{page.name}: {method} {path} answers {status} ({size:,} bytes)")
        if status != 200:
            problems.append(f"{page.name}: a first {method} {path} answered {status}, not 200")
    scripts["baseline"] = write_script(workdir / "baseline.lua", [("GET", one_query, {}, None)])
    scripts["hello"] = write_script(workdir / "hello.lua", [("GET", "/hello/", {}, None)])

    say(f"warming up ({options.warmup:g} s a page)")
    wrk(baseline, scripts["baseline"], options, options.warmup)
    for page in pages:
        wrk(site, scripts[page.name], options, options.warmup)

    state["load_before"] = os.getloadavg()[0]
    results: dict[str, list[tuple[Run, Run]]] = {page.name: [] for page in pages}
    hello: list[Run] = []
    slices = max(1, min(options.slices, int(options.duration)))
    slice_seconds = max(1, round(options.duration / slices))
    options.slices, options.duration = slices, slices * slice_seconds
    for round_number in range(1, options.rounds + 1):
        say(f"round {round_number} of {options.rounds}")
        hello.append(wrk(baseline, scripts["hello"], options, options.duration))
        for page in pages:
            # The baseline beside each page, in short slices taken in turn (ABBA...), so a
            # change in what else the machine is doing weighs on both alike.
            base_slices, site_slices = [], []
            for index in range(slices):
                pair = [
                    (base_slices, baseline, scripts["baseline"]),
                    (site_slices, site, scripts[page.name]),
                ]
                if (index + round_number) % 2:
                    pair.reverse()
                for into, url, script in pair:
                    into.append(wrk(url, script, options, slice_seconds))
            base_run, site_run = combined(base_slices), combined(site_slices)
            results[page.name].append((site_run, base_run))
            say(
                f"  {page.name:<13} {site_run.rate:8.1f} req/s   baseline {base_run.rate:8.1f}"
                f"   {share(site_run, base_run)}"
                + (f"   ERRORS {site_run.errors}" if site_run.errors or site_run.failed else "")
            )

    state["load_after"] = os.getloadavg()[0]
    report(options, state, pages, results, hello, problems, database_url)
    if problems or any_errors(results):
        # The site's own account of what went wrong (its log goes with the temporary folder).
        logged = [
            line
            for line in site_log.read_text(errors="replace").splitlines()
            if not line.startswith("127.0.0.1 - ")
        ]
        print("The production stack's log, last lines other than requests:")
        print("\n".join(logged[-40:]))
    # Stopped here, while PostgreSQL and Redis still answer.
    stack.stop_all()
    return 1 if problems or any_errors(results) else 0


def share(site_run: Run, base_run: Run) -> str:
    if not base_run.rate:
        return "  n/a"
    return f"{100 * site_run.rate / base_run.rate:4.0f} %"


def any_errors(results) -> bool:
    return any(
        run.errors or run.failed for runs in results.values() for pair in runs for run in pair
    )


def versions(database_url: str) -> str:
    import django

    try:
        server = subprocess.run(
            ["psql", database_url, "-Atc", "show server_version"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        ).stdout.strip()
    except OSError:
        server = "?"
    return f"Python {platform.python_version()}, Django {django.get_version()}, PostgreSQL {server}"


def report(options, state, pages, results, hello, problems, database_url) -> None:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    rounds = options.rounds
    print()
    print("Pages under load: the project's requests per second as a share of the baseline's")
    print(
        f"one-query view, measured beside it. {cores} cores ({usable} usable), "
        f"wrk -t{options.threads} -c{options.connections}, {options.duration:g} s a page "
        f"and as much of the baseline a round, in {options.slices} slices taken in turn; "
        f"{rounds} rounds; {versions(database_url)}."
    )
    print(
        f"Data: {state['learners']:,} learners, {state['enrollments']:,} enrollments, "
        f"{state['certificates']:,} certificates; bulk inserts took {state['seed_seconds']} s."
    )
    print(
        f"Verify and API pick one of {len(state['codes']):,} certificate codes at random for "
        f"each request (a per-code cache is not hit every time); learner pages and heartbeats "
        f"rotate among {len(state['sessions'])} signed-in learners."
    )
    print(f"Rate limits for this run only: CEU_RATE_LIMITS={RATE_LIMITS}")
    print(
        f"Load average {state['load_before']:.1f} as the rounds started, "
        f"{state['load_after']:.1f} as they ended: other work on the machine weighs on the "
        "site and the baseline alike only because their runs alternate."
    )
    print()
    r = range(1, rounds + 1)
    header = (
        f"{'page':<37}"
        + "".join(f"{'site r' + str(n):>9}" for n in r)
        + "".join(f"{'base r' + str(n):>9}" for n in r)
        + "".join(f"{'share r' + str(n):>10}" for n in r)
        + f"{'target':>9}  meets"
    )
    print(header)
    print("-" * len(header))
    for page in pages:
        runs = results[page.name]
        shares = [100 * s.rate / b.rate if b.rate else 0.0 for s, b in runs]
        met = [value >= page.target for value in shares]
        verdict = "yes" if all(met) else ("no" if not any(met) else "one round")
        if any(s.errors or s.failed for s, _b in runs):
            verdict = "ERRORS"
        print(
            f"{page.label:<37}"
            + "".join(f"{s.rate:9.0f}" for s, _b in runs)
            + "".join(f"{b.rate:9.0f}" for _s, b in runs)
            + "".join(f"{value:8.0f} %" for value in shares)
            + f"{'≥ ' + str(page.target) + ' %':>9}  {verdict}"
        )
    print()
    print("Absolute figures, each run (req/s, median and 99th percentile latency, size, errors):")
    for page in pages:
        for n, (s, b) in enumerate(results[page.name], start=1):
            print(
                f"  {page.name:<13} r{n}  site {s.rate:7.1f}/s  p50 {s.p50_ms:6.1f} ms  "
                f"p99 {s.p99_ms:6.1f} ms  {s.kib_per_response:5.1f} KiB  errors {s.errors}"
                + (f" (first status {s.first_bad})" if s.first_bad else "")
                + (f" wrk failed: {s.failed}" if s.failed else "")
                + f"  | baseline {b.rate:7.1f}/s  p50 {b.p50_ms:5.1f} ms  errors {b.errors}"
            )
    for n, run in enumerate(hello, start=1):
        print(
            f"  {'hello':<13} r{n}  baseline view returning a short HTML string, no database: "
            f"{run.rate:7.1f}/s  p50 {run.p50_ms:5.1f} ms  errors {run.errors}"
        )
    print()
    print_counts(state)
    errors = [
        f"{page.name}: {s.errors} of {s.requests} answers were not 2xx"
        + (f" (first: {s.first_bad})" if s.first_bad else "")
        + (f"; wrk: {s.failed}" if s.failed else "")
        for page in pages
        for s, _b in results[page.name]
        if s.errors or s.failed
    ]
    if problems or errors:
        print()
        print("!" * 78)
        print("!!! ERRORS: these figures do not measure working pages")
        for line in problems + errors:
            print(f"!!!   {line}")
        print("!" * 78)


def print_counts(state: dict) -> None:
    small, full = state.get("counts_small", {}), state.get("counts_full", {})
    print(
        f"Queries per page (first request / again), at {state['small']:,} learners and at "
        f"{state['learners']:,}, each time for a learner with two certificates and a lesson in "
        "progress, alike in everything:"
    )
    for name, (first, again, status) in small.items():
        line = f"  {name:<15} {first:3d} / {again:<3d}"
        if name in full:
            big_first, big_again, big_status = full[name]
            line += f"   {big_first:3d} / {big_again:<3d}"
            if (big_first, big_again) != (first, again):
                line += "   NOT FLAT"
            status = big_status if big_status != 200 else status
        if status != 200:
            line += f"   answered {status}"
        print(line)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
