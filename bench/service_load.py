"""Load on a real ``brandforge serve`` process: /v1/check throughput and campaign jobs per minute.

Starts the service as a subprocess on a free 127.0.0.1 port (SQLite database, a copy of the Wanderly
brand and a service YAML in a temporary folder, JSON logs to a file there), creates an admin API key with
``brandforge keys create``, waits for ``/readyz`` and always stops the server at the end (SIGTERM, then
SIGKILL; the server also gets SIGTERM if this script dies). Every phase has a time limit.

1. ``POST /v1/check`` (rules and semantic layer, English and Chinese ad copy in turn): for ``--seconds``
   each at every ``--concurrency`` (client threads, one keep-alive connection each), requests per
   second and p50/p95/p99 latency. Any answer other than 2xx, or any exception, is an error.
2. Campaign jobs (``channels: [search_ad]``) on the fake backend with ``--fake-delay`` seconds per model
   call: for every ``--workers`` level a fresh server started with that many job workers, ``--jobs``
   jobs submitted at once and polled (``GET /v1/jobs/{id}``) until they end. Jobs per minute are done
   jobs over the server's own span (first ``created_at`` to last ``finished_at``); a job that does not
   end ``done`` within ``--job-timeout`` is an error. Before the clock starts, a ``/v1/check`` naming
   the brand builds its index, so the first job of a level pays no index build.
3. ``--embedded`` only (minutes): the same with the real embedded model (no backend override),
   1 worker, ``--embedded-jobs`` jobs.

The server's resident memory (VmRSS from /proc, else psutil) is sampled every 0.1 s during each step
and reported as start / peak / end MB; error and warning lines of the server's JSON log are counted.
The client runs on the same machine as the server and shares its CPUs: the figures are for one box.
Last line: the headline, with the worker levels' ratio measured side by side in this run.

    python bench/service_load.py [--seconds 20] [--concurrency 1,4,16] [--workers 1,4,8] [--jobs 8]
        [--fake-delay 0.2] [--embedded] [--json OUT]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
BRAND = ROOT / "examples" / "brands" / "wanderly"
FINAL_STATES = ("done", "failed", "cancelled", "interrupted")

# Short ad copy as clients send it: figures, a call to action, now and then a claim the rules flag.
CHECK_TEXTS: list[tuple[str, str]] = [
    (
        "Walk Yunnan's Yubeng valley in 7 unhurried days with Wanderly: groups of up to 10, local "
        "Tibetan guides, from 6,980 yuan per person. Book your autumn departure today.",
        "en",
    ),
    (
        "Wanderly 雨崩徒步 7 天：每团最多 10 人，藏族向导带队，6,980元/人起。名额有限，立即报名！",
        "zh",
    ),
    (
        "The best autumn colours in China, guaranteed! Kanas in 8 days with a photographer guide, "
        "completely safe for the whole family.",
        "en",
    ),
    ("全网最低价！Wanderly 喀纳斯秋季 8 天，绝对安全，100% 看到金秋美景。", "zh"),
]


# --- the server process ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when this script dies (Linux), so no server outlives a killed
    benchmark (a test timeout sends SIGKILL, which runs no ``finally``)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` in MB, or None when it cannot be read (the process has ended)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    try:
        import psutil

        return float(psutil.Process(pid).memory_info().rss) / 1024 / 1024
    except Exception:
        return None


class RssSampler:
    """Samples a process's RSS every ``interval_s`` in a thread between ``__enter__`` and ``__exit__``."""

    def __init__(self, pid: int, interval_s: float = 0.1) -> None:
        self.pid, self.interval_s = pid, interval_s
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="rss-sampler")

    def _sample(self) -> None:
        value = rss_mb(self.pid)
        if value is not None:
            self.samples.append(value)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def summary(self) -> dict[str, float | None]:
        s = self.samples
        return {"start": s[0], "peak": max(s), "end": s[-1]} if s else dict.fromkeys(("start", "peak", "end"))


@dataclass
class Server:
    """A running ``brandforge serve`` and how to reach it."""

    proc: subprocess.Popen[bytes]
    base_url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_counts(self) -> dict[str, int]:
        """Error and warning lines in its JSON log so far."""
        counts = {"error": 0, "warning": 0}
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError, AttributeError):
                level = json.loads(line).get("level")
                if level in counts:
                    counts[level] += 1
        return counts

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


class Bench:
    """The temporary folder (database, brand copy, configs, logs), the brandforge executable and the key."""

    def __init__(self, work: Path, brand: Path) -> None:
        self.work = work
        self.brands = work / "brands"
        shutil.copytree(brand, self.brands / brand.name, ignore=shutil.ignore_patterns(".brandforge"))
        self.brand = brand.name
        self.database = f"sqlite:///{work / 'service.db'}"
        here = Path(sys.executable).parent / "brandforge"
        found = str(here) if here.exists() else shutil.which("brandforge")
        if found is None:
            raise SystemExit("brandforge is not installed next to this Python or on PATH (pip install -e .)")
        self.exe = found
        self.token = self._create_key()
        self.starts = 0

    def _create_key(self) -> str:
        cmd = [self.exe, "keys", "create", "--database", self.database, "--name", "load"]
        cmd += ["--scopes", "admin", "--rate-per-minute", "100000", "--max-active-jobs", "1000"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        tokens = [line.strip() for line in done.stdout.splitlines() if line.strip().startswith("bf_")]
        if done.returncode != 0 or not tokens:
            raise SystemExit(f"brandforge keys create failed ({done.returncode}): {done.stderr[-2000:]}")
        return tokens[-1]

    @contextlib.contextmanager
    def server(self, *, backend: dict[str, Any], workers: int, ready_timeout_s: float) -> Iterator[Server]:
        """A fresh server with ``workers`` job workers and ``backend`` overrides, stopped on exit."""
        self.starts += 1
        port = free_port()
        config = {
            "host": "127.0.0.1",
            "port": port,
            "database": self.database,
            "brands_dir": str(self.brands),
            "backend": backend,
            "workers": workers,
            "log_json": True,
            "shutdown_grace_s": 2.0,  # jobs left at a time limit are requeued, not waited for
        }
        path = self.work / f"service-{self.starts}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        log = self.work / f"server-{self.starts}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [self.exe, "serve", "--config", str(path)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        server = Server(proc, f"http://127.0.0.1:{port}", log)
        try:
            wait_ready(server, ready_timeout_s)
            yield server
        finally:
            stop(proc)


def wait_ready(server: Server, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=server.base_url, timeout=5.0) as client:
        while True:
            if server.proc.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {server.proc.returncode} before it was ready:\n"
                    + server.log_tail()
                )
            with contextlib.suppress(httpx.HTTPError, ValueError):
                answer = client.get("/readyz")
                if answer.status_code == 200:
                    return
                error = answer.json().get("error") if answer.status_code == 503 else None
                if error:
                    raise RuntimeError(f"the server cannot start: {error}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server was not ready after {timeout_s:.0f} s:\n{server.log_tail()}")
            time.sleep(0.2)


def stop(proc: subprocess.Popen[bytes], grace_s: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- measurements ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (q in 0..100); 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _error_name(answer: httpx.Response | None, exc: Exception | None) -> str:
    if exc is not None:
        return type(exc).__name__
    assert answer is not None
    try:
        code = answer.json()["error"]["code"]
    except Exception:
        code = "?"
    return f"{answer.status_code} {code}"


@dataclass
class CheckStep:
    clients: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    error_kinds: dict[str, int]
    rss_mb: dict[str, float | None]


def check_load(server: Server, token: str, clients: int, seconds: float) -> CheckStep:
    """``clients`` threads posting /v1/check back to back for ``seconds``."""
    latencies: list[float] = []
    kinds: dict[str, int] = {}
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}"}
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client_loop(n: int) -> None:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30.0) as client:
            i = n
            start_gate.wait()
            while time.monotonic() < deadline[0]:
                text, locale = CHECK_TEXTS[i % len(CHECK_TEXTS)]
                i += 1
                started = time.perf_counter()
                answer: httpx.Response | None = None
                exc: Exception | None = None
                try:
                    answer = client.post("/v1/check", json={"text": text, "locale": locale})
                except Exception as e:  # a refused connection or a timeout is an error like a 500
                    exc = e
                ms = (time.perf_counter() - started) * 1000
                with lock:
                    if exc is None and answer is not None and answer.is_success:
                        latencies.append(ms)
                    else:
                        name = _error_name(answer, exc)
                        kinds[name] = kinds.get(name, 0) + 1

    threads = [threading.Thread(target=client_loop, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    with RssSampler(server.pid) as rss:
        deadline[0] = time.monotonic() + seconds
        began = time.perf_counter()
        start_gate.wait()
        for t in threads:
            t.join(timeout=seconds + 60)  # the request timeout bounds each thread's last request
        wall = time.perf_counter() - began
    errors = sum(kinds.values())
    return CheckStep(
        clients=clients,
        seconds=round(wall, 3),
        requests=len(latencies) + errors,
        errors=errors,
        rps=len(latencies) / wall if wall > 0 else 0.0,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        error_kinds=kinds,
        rss_mb=rss.summary(),
    )


@dataclass
class JobStep:
    label: str
    workers: int
    jobs: int
    done: int
    errors: int
    span_s: float
    per_minute: float
    job_mean_s: float
    job_max_s: float
    llm_calls: int
    error_kinds: dict[str, int]
    rss_mb: dict[str, float | None]
    log_lines: dict[str, int] = field(default_factory=dict)


def _when(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp).timestamp() if stamp else None


def warm_brand(server: Server, token: str, brand: str) -> None:
    """A check that names the brand loads (or builds) its index, as the first job would."""
    with httpx.Client(base_url=server.base_url, timeout=600.0) as client:
        answer = client.post(
            "/v1/check",
            json={"text": CHECK_TEXTS[1][0], "brand": brand},
            headers={"Authorization": f"Bearer {token}"},
        )
        answer.raise_for_status()


def campaign_load(
    server: Server, token: str, *, label: str, brand: str, workers: int, jobs: int, timeout_s: float
) -> JobStep:
    """Submit ``jobs`` search-ad campaigns at once and poll them until they end or ``timeout_s`` passes."""
    headers = {"Authorization": f"Bearer {token}"}
    kinds: dict[str, int] = {}

    def error(name: str) -> None:
        kinds[name] = kinds.get(name, 0) + 1

    views: dict[str, dict[str, Any]] = {}
    with (
        httpx.Client(base_url=server.base_url, headers=headers, timeout=30.0) as client,
        RssSampler(server.pid) as rss,
    ):
        deadline = time.monotonic() + timeout_s
        pending: list[str] = []
        for _ in range(jobs):
            try:
                answer = client.post("/v1/campaigns", json={"brand": brand, "channels": ["search_ad"]})
            except Exception as exc:
                error(f"submit {type(exc).__name__}")
                continue
            if answer.status_code != 202:
                error(f"submit {_error_name(answer, None)}")
                continue
            pending.append(answer.json()["id"])
        while pending and time.monotonic() < deadline:
            time.sleep(0.5)
            for job_id in list(pending):
                try:
                    answer = client.get(f"/v1/jobs/{job_id}")
                except Exception:
                    continue  # a poll that failed is retried; the job's outcome is what counts
                view = answer.json() if answer.status_code == 200 else {}
                if view.get("state") in FINAL_STATES:
                    views[job_id] = view
                    pending.remove(job_id)
        for job_id in pending:  # past the time limit: cancel, so the server stops promptly
            error("not ended in time")
            with contextlib.suppress(Exception):
                client.delete(f"/v1/jobs/{job_id}")
    done = [v for v in views.values() if v["state"] == "done"]
    for view in views.values():
        if view["state"] != "done":
            error(f"{view['state']}: {(view.get('message') or '')[:120]}")
    created = [t for v in views.values() if (t := _when(v["created_at"])) is not None]
    finished = [t for v in done if (t := _when(v["finished_at"])) is not None]
    span = max(finished) - min(created) if finished and created else 0.0
    durations = [float(v["summary"]["seconds"]) for v in done if v.get("summary")]
    return JobStep(
        label=label,
        workers=workers,
        jobs=jobs,
        done=len(done),
        errors=jobs - len(done),
        span_s=round(span, 3),
        per_minute=len(done) / span * 60 if span > 0 else 0.0,
        job_mean_s=sum(durations) / len(durations) if durations else 0.0,
        job_max_s=max(durations, default=0.0),
        llm_calls=sum(int(v["summary"].get("llm_calls", 0)) for v in done if v.get("summary")),
        error_kinds=kinds,
        rss_mb=rss.summary(),
    )


# --- report ------------------------------------------------------------------------------------------


def _mb(value: float | None) -> str:
    return f"{value:.0f}" if value is not None else "n/a"


def _rss(r: dict[str, float | None]) -> str:
    return f"{_mb(r['start'])}/{_mb(r['peak'])}/{_mb(r['end'])}"


def print_check_table(steps: list[CheckStep]) -> None:
    print(
        f"{'clients':>7} {'requests':>8} {'rps':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'err %':>6}  RSS MB start/peak/end"
    )
    for s in steps:
        share = s.errors / s.requests if s.requests else 0.0
        print(
            f"{s.clients:>7} {s.requests:>8} {s.rps:>8.1f} {s.p50_ms:>8.1f} {s.p95_ms:>8.1f} "
            f"{s.p99_ms:>8.1f} {s.errors:>6} {share:>6.1%}  {_rss(s.rss_mb)}"
        )
        for kind, n in sorted(s.error_kinds.items()):
            print(f"{'':>7} error: {kind} x{n}")


def print_job_table(steps: list[JobStep]) -> None:
    print(
        f"{'workers':>7} {'jobs':>5} {'done':>5} {'errors':>6} {'span s':>7} {'jobs/min':>8} "
        f"{'job s':>6} {'max s':>6} {'calls':>6}  RSS MB start/peak/end  log err/warn"
    )
    for s in steps:
        log = f"{s.log_lines.get('error', 0)}/{s.log_lines.get('warning', 0)}"
        print(
            f"{s.workers:>7} {s.jobs:>5} {s.done:>5} {s.errors:>6} {s.span_s:>7.1f} {s.per_minute:>8.1f} "
            f"{s.job_mean_s:>6.2f} {s.job_max_s:>6.2f} {s.llm_calls:>6}  {_rss(s.rss_mb):<21}  {log}"
        )
        for kind, n in sorted(s.error_kinds.items()):
            print(f"{'':>7} error: {kind} x{n}")


def _workers(n: int) -> str:
    return f"{n} worker" if n == 1 else f"{n} workers"


def headline(checks: list[CheckStep], fake: list[JobStep], embedded: list[JobStep], log_errors: int) -> str:
    parts: list[str] = []
    if checks:
        best = max(checks, key=lambda s: s.rps)
        parts.append(f"check {best.rps:.0f} rps p99 {best.p99_ms:.0f} ms ({best.clients} clients)")
    if fake:
        top = max(fake, key=lambda s: s.workers)
        low = min(fake, key=lambda s: s.workers)
        text = f"fake-backend campaigns {top.per_minute:.1f}/min at {_workers(top.workers)}"
        if top is not low:
            ratio = f"x{top.per_minute / low.per_minute:.1f}" if low.per_minute > 0 else "x n/a"
            text += f" vs {low.per_minute:.1f}/min at {low.workers} ({ratio})"
        parts.append(text)
    for step in embedded:
        parts.append(f"embedded campaigns {step.per_minute:.2f}/min at {_workers(step.workers)}")
    errors = sum(s.errors for s in checks) + sum(s.errors for s in [*fake, *embedded])
    parts.append(f"errors {errors}")
    if log_errors:
        parts.append(f"server log errors {log_errors}")
    rss = [s.rss_mb for s in checks] + [s.rss_mb for s in [*fake, *embedded]]
    peaks = [p for r in rss if (p := r["peak"]) is not None]
    parts.append(f"peak RSS {max(peaks):.0f} MB" if peaks else "peak RSS n/a")
    return "headline: " + ", ".join(parts)


# --- main --------------------------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _sigterm_exits(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # run the ``finally`` blocks that stop the server


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brand", default=str(BRAND), help="brand folder to register (default wanderly)")
    parser.add_argument("--seconds", type=float, default=20.0, help="check load per concurrency level")
    parser.add_argument(
        "--concurrency", type=_int_list, default=[1, 4, 16], help="check clients, e.g. 1,4,16"
    )
    parser.add_argument("--workers", type=_int_list, default=[1, 4, 8], help="job worker levels, e.g. 1,4,8")
    parser.add_argument("--jobs", type=int, default=8, help="campaign jobs per worker level")
    parser.add_argument("--fake-delay", type=float, default=0.2, help="fake backend seconds per model call")
    parser.add_argument("--job-timeout", type=float, default=90.0, help="time limit per worker level, s")
    parser.add_argument("--ready-timeout", type=float, default=180.0, help="time limit for /readyz, s")
    parser.add_argument("--embedded", action="store_true", help="also the real embedded model (minutes)")
    parser.add_argument("--embedded-jobs", type=int, default=2)
    parser.add_argument("--embedded-timeout", type=float, default=1800.0, help="time limit, s")
    parser.add_argument("--skip-check", action="store_true", help="no /v1/check phase")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, database)")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.embedded_jobs < 1:
        parser.error("--jobs and --embedded-jobs must be at least 1")

    signal.signal(signal.SIGTERM, _sigterm_exits)
    work = Path(tempfile.mkdtemp(prefix="bf-bench-service-"))
    checks: list[CheckStep] = []
    fake: list[JobStep] = []
    embedded: list[JobStep] = []
    log_errors = 0
    try:
        bench = Bench(work, Path(args.brand))
        fake_backend = {"kind": "fake", "delay_s": args.fake_delay}
        print(
            f"service load: brandforge serve on 127.0.0.1, SQLite, brand {bench.brand}, {os.cpu_count()} CPUs"
        )

        if not args.skip_check:
            print(f"\nphase 1: POST /v1/check, {args.seconds:g} s per level")
            with bench.server(backend=fake_backend, workers=1, ready_timeout_s=args.ready_timeout) as srv:
                for text, locale in CHECK_TEXTS[:2]:  # each locale's checker is opened by its first check
                    httpx.post(
                        f"{srv.base_url}/v1/check",
                        json={"text": text, "locale": locale},
                        headers={"Authorization": f"Bearer {bench.token}"},
                        timeout=300.0,
                    ).raise_for_status()
                for clients in args.concurrency:
                    checks.append(check_load(srv, bench.token, clients, args.seconds))
                log_errors += srv.log_counts()["error"]
            print_check_table(checks)

        def run_jobs(
            label: str, backend: dict[str, Any], workers: int, jobs: int, limit: float, ready: float
        ) -> JobStep:
            with bench.server(backend=backend, workers=workers, ready_timeout_s=ready) as srv:
                warm_brand(srv, bench.token, bench.brand)
                step = campaign_load(
                    srv,
                    bench.token,
                    label=label,
                    brand=bench.brand,
                    workers=workers,
                    jobs=jobs,
                    timeout_s=limit,
                )
                step.log_lines = srv.log_counts()
            return step

        print(
            f"\nphase 2: campaign jobs (search_ad), fake backend {args.fake_delay:g} s/call, {args.jobs} jobs"
        )
        for workers in args.workers:
            fake.append(
                run_jobs("fake", fake_backend, workers, args.jobs, args.job_timeout, args.ready_timeout)
            )
        print_job_table(fake)
        log_errors += sum(s.log_lines.get("error", 0) for s in fake)

        if args.embedded:
            print(
                f"\nphase 3: campaign jobs (search_ad), embedded model, 1 worker, {args.embedded_jobs} jobs"
            )
            ready = max(args.ready_timeout, 600.0)  # the model loads before /readyz answers 200
            embedded.append(run_jobs("embedded", {}, 1, args.embedded_jobs, args.embedded_timeout, ready))
            print_job_table(embedded)
            log_errors += sum(s.log_lines.get("error", 0) for s in embedded)
    finally:
        if args.keep:
            sys.stdout.flush()
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    line = headline(checks, fake, embedded, log_errors)
    if args.json:
        report = {
            "settings": {k: v for k, v in vars(args).items() if k not in ("json", "keep")},
            "check": [asdict(s) for s in checks],
            "campaigns_fake": [asdict(s) for s in fake],
            "campaigns_embedded": [asdict(s) for s in embedded],
            "server_log_errors": log_errors,
            "headline": line,
        }
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print()
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
