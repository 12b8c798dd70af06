"""The service as a real process (``brandforge serve``) on SQLite and on a real PostgreSQL server: kill it
with SIGKILL mid-job and start it again — finished results are all there, the interrupted job is marked
and can be retried, nothing is half-written; stop it with SIGTERM — the running job goes back to the
queue and the next server finishes it. Keys are made with ``brandforge keys create``; the campaign is
also run with ``brandforge campaign --server``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from service.store import Store
from tests.conftest import copy_brand
from tests.postgres import postgres_server, reset_database
from tests.servers import free_port

pytestmark = [pytest.mark.server, pytest.mark.slow]

BIN = Path(sys.executable).parent / "brandforge"
# The fake backend with a delay per call: a whole campaign takes tens of seconds, one channel a few.
FAKE = {"kind": "fake", "delay_s": 0.1}


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    url: str = request.getfixturevalue("postgres_url")
    reset_database(url)
    return url


def write_config(tmp_path: Path, database: str, **settings: Any) -> Path:
    brands = tmp_path / "brands"
    if not brands.exists():
        brands.mkdir()
        copy_brand("wanderly", brands)
    config = {
        "database": database,
        "brands_dir": str(brands),
        "backend": FAKE,
        "port": free_port(),
        "heartbeat_s": 0.5,
        "stale_after_s": 30,
        "warm_up": False,
        "data_dir": str(tmp_path / "data"),
        **settings,
    }
    path = tmp_path / "service.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@contextmanager
def serve(config: Path, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = yaml.safe_load(config.read_text())["port"]
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(BIN), "serve", "--config", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def new_key(database: str, scopes: str = "admin", max_active_jobs: int = 4) -> str:
    made = subprocess.run(
        [
            str(BIN),
            "keys",
            "create",
            "--database",
            database,
            "--name",
            "test",
            "--scopes",
            scopes,
            "--max-active-jobs",
            str(max_active_jobs),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    token = made.stdout.strip()
    assert token.startswith("bf_") and "shown only once" in made.stderr
    return token


def wait_for(
    base: str, headers: dict[str, str], job_id: str, states: set[str], timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers, timeout=10).json()
        if job["state"] in states:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_sigkill_mid_job_then_restart(tmp_path: Path, database: str) -> None:
    config = write_config(tmp_path, database)
    log = tmp_path / "server.log"
    headers = {"Authorization": f"Bearer {new_key(database)}"}
    with serve(config, log) as (proc, base):
        short = httpx.post(
            f"{base}/v1/campaigns", json={"brand": "wanderly", "channels": ["search_ad"]}, headers=headers
        ).json()
        done = wait_for(base, headers, short["id"], {"done", "failed"})
        assert done["state"] == "done", done
        result_before = httpx.get(f"{base}/v1/jobs/{short['id']}/result", headers=headers).text
        long = httpx.post(f"{base}/v1/campaigns", json={"brand": "wanderly"}, headers=headers).json()
        deadline = time.monotonic() + 60
        while True:  # some work done, far from finished
            job = httpx.get(f"{base}/v1/jobs/{long['id']}", headers=headers).json()
            if job["state"] == "running" and job["message"] and "reviewer" in job["message"]:
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    store = Store(database)
    try:
        killed = store.get_job(long["id"])
        assert killed is not None and killed.state == "running"  # nobody could mark it: the process died
        assert store.get_result(long["id"]) is None
    finally:
        store.close()
    with serve(config, log) as (proc, base):
        again = httpx.get(f"{base}/v1/jobs/{short['id']}", headers=headers).json()
        assert again["state"] == "done" and again["summary"] == done["summary"]
        assert httpx.get(f"{base}/v1/jobs/{short['id']}/result", headers=headers).text == result_before
        interrupted = httpx.get(f"{base}/v1/jobs/{long['id']}", headers=headers).json()
        assert interrupted["state"] == "interrupted", interrupted
        assert "retry" in interrupted["message"]
        assert httpx.get(f"{base}/v1/jobs/{long['id']}/result", headers=headers).status_code == 409
        retried = httpx.post(f"{base}/v1/jobs/{long['id']}/retry", headers=headers)
        assert retried.status_code == 202
        finished = wait_for(base, headers, long["id"], {"done", "failed"}, timeout=180)
        assert finished["state"] == "done" and finished["attempts"] == 2
        campaign = httpx.get(f"{base}/v1/jobs/{long['id']}/result", headers=headers).json()
        assert len(campaign["pieces"]) == 5
        with httpx.stream(
            "GET", f"{base}/v1/jobs/{long['id']}/events", headers=headers, timeout=30
        ) as stream:
            states = [
                json.loads(line[len("data: ") :])["state"]
                for line in stream.iter_lines()
                if line.startswith("data: ") and '"state"' in line
            ]
        assert states == ["queued", "running", "interrupted", "queued", "running", "done"]
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(entry.get("job_id") == long["id"] for entry in lines)  # structured logs carry the job id
    assert any(entry.get("request_id") and entry.get("route") == "/v1/campaigns" for entry in lines)


def test_sigterm_requeues_the_running_job_for_the_next_server(tmp_path: Path, database: str) -> None:
    config = write_config(tmp_path, database, shutdown_grace_s=0)
    log = tmp_path / "server.log"
    headers = {"Authorization": f"Bearer {new_key(database)}"}
    with serve(config, log) as (proc, base):
        job = httpx.post(f"{base}/v1/campaigns", json={"brand": "wanderly"}, headers=headers).json()
        wait_for(base, headers, job["id"], {"running"})
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (exit by SIGTERM).
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM), log.read_text()[-3000:]
        assert "requeue" in log.read_text()
    store = Store(database)
    try:
        stopped = store.get_job(job["id"])
        assert stopped is not None and stopped.state == "queued", stopped
        assert stopped.message and "requeued" in stopped.message
    finally:
        store.close()
    with serve(config, log) as (proc, base):
        finished = wait_for(base, headers, job["id"], {"done", "failed"}, timeout=180)
        assert finished["state"] == "done" and finished["attempts"] == 2


def test_campaign_command_runs_on_the_server(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'service.db'}"
    config = write_config(tmp_path, database, backend={"kind": "fake"})
    out = tmp_path / "campaign.json"
    env = {**os.environ, "BRANDFORGE_SERVICE_KEY": new_key(database, "campaign:run")}
    with serve(config, tmp_path / "server.log") as (_, base):
        run = subprocess.run(
            [
                str(BIN),
                "campaign",
                "wanderly",
                "--server",
                base,
                "--channels",
                "search_ad,email",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert run.returncode in (0, 1), run.stderr
        campaign = json.loads(out.read_text())
        assert sorted(p["channel"] for p in campaign["pieces"]) == ["email", "search_ad"]
        assert "copywriter" in run.stderr and "done: 2 pieces" in run.stderr
        unknown = subprocess.run(
            [str(BIN), "campaign", "nosuch", "--server", base],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert unknown.returncode == 2 and "no registered brand 'nosuch'" in unknown.stderr
        no_key = subprocess.run(
            [str(BIN), "campaign", "wanderly", "--server", base],
            capture_output=True,
            text=True,
            env={k: v for k, v in env.items() if k != "BRANDFORGE_SERVICE_KEY"},
            timeout=60,
        )
        assert no_key.returncode == 2 and "BRANDFORGE_SERVICE_KEY" in no_key.stderr
        wrong = subprocess.run(
            [str(BIN), "campaign", "wanderly", "--server", base],
            capture_output=True,
            text=True,
            env={**env, "BRANDFORGE_SERVICE_KEY": "bf_000000000000_" + "x" * 43},
            timeout=60,
        )
        assert wrong.returncode == 2 and "not valid" in wrong.stderr
    listed = subprocess.run(
        [str(BIN), "keys", "list", "--database", database], capture_output=True, text=True, check=True
    )
    assert "campaign:run" in listed.stdout and "live" in listed.stdout
    key_id = listed.stdout.split()[0]
    revoked = subprocess.run(
        [str(BIN), "keys", "revoke", key_id, "--database", database], capture_output=True, text=True
    )
    assert revoked.returncode == 0
    again = subprocess.run(
        [str(BIN), "keys", "revoke", key_id, "--database", database], capture_output=True, text=True
    )
    assert again.returncode == 2 and "no live key" in again.stderr
    bad_scope = subprocess.run(
        [str(BIN), "keys", "create", "--database", database, "--name", "x", "--scopes", "root"],
        capture_output=True,
        text=True,
    )
    assert bad_scope.returncode == 2 and "valid scopes" in bad_scope.stderr


def test_two_replicas_share_one_postgres(tmp_path: Path, postgres_url: str) -> None:
    """N API replicas on PostgreSQL: jobs submitted to either run once each, spread over both; a job
    running on one replica is cancelled through the other."""
    reset_database(postgres_url)
    headers = {"Authorization": f"Bearer {new_key(postgres_url, max_active_jobs=10)}"}
    first = write_config(tmp_path, postgres_url, workers=1)
    second_dir = tmp_path / "b"
    second_dir.mkdir()
    second = write_config(second_dir, postgres_url, workers=1, brands_dir=str(tmp_path / "brands"))
    with serve(first, tmp_path / "a.log") as (_, a), serve(second, second_dir / "b.log") as (_, b):
        ids = [
            httpx.post(
                f"{base}/v1/campaigns", json={"brand": "wanderly", "channels": ["search_ad"]}, headers=headers
            ).json()["id"]
            for base in (a, b, a, b, a, b)
        ]
        finished = [
            wait_for(a if n % 2 else b, headers, job_id, {"done", "failed"}) for n, job_id in enumerate(ids)
        ]
        assert [j["state"] for j in finished] == ["done"] * 6 and all(j["attempts"] == 1 for j in finished)
        store = Store(postgres_url)
        try:
            workers = {
                e.data["worker"].rsplit(":", 1)[0]
                for job_id in ids
                for e in store.events(job_id)
                if e.data.get("state") == "running"
            }
        finally:
            store.close()
        assert len(workers) == 2, workers  # both replicas ran jobs
        long = httpx.post(f"{a}/v1/campaigns", json={"brand": "wanderly"}, headers=headers).json()
        wait_for(b, headers, long["id"], {"running"})
        assert httpx.delete(f"{b}/v1/jobs/{long['id']}", headers=headers).json()["state"] == "cancelling"
        assert wait_for(a, headers, long["id"], {"cancelled", "done"}, timeout=60)["state"] == "cancelled"


def test_a_batch_submitted_through_the_api_runs_on_ray(tmp_path: Path) -> None:
    """executor: ray — the service's batch job hands its items to the existing Ray executor (a local Ray
    here; ``ray_address`` in the settings names a cluster)."""
    pytest.importorskip("ray")
    database = f"sqlite:///{tmp_path / 'service.db'}"
    config = write_config(tmp_path, database, data_dir=str(tmp_path / "data"), ray_address="local")
    headers = {"Authorization": f"Bearer {new_key(database)}"}
    with serve(config, tmp_path / "server.log") as (_, base):
        body = {
            "items": [{"id": f"w-{n}", "brand": "wanderly", "channels": ["search_ad"]} for n in range(3)],
            "executor": "ray",
            "concurrency": 2,
        }
        job = httpx.post(f"{base}/v1/batches", json=body, headers=headers).json()
        done = wait_for(base, headers, job["id"], {"done", "failed"}, timeout=300)
        assert done["state"] == "done", done
        assert done["summary"]["executor"] == "ray" and done["summary"]["succeeded"] == 3
        lines = httpx.get(f"{base}/v1/jobs/{job['id']}/result", headers=headers).text.splitlines()
        assert sorted(json.loads(line)["id"] for line in lines) == ["w-0", "w-1", "w-2"]
    log = (tmp_path / "data" / "batches" / job["id"] / "run" / "batch.log").read_text()
    assert "done w-0" in log and " on " in log  # the resources each Ray task was given
