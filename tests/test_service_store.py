"""The service's store on SQLite and on a real PostgreSQL server: claims are exclusive under concurrency,
idempotency holds under a race, only the owning worker ends a job, interrupted jobs are found and
retried, and the audit log keeps every write."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.auth import create_key, hash_secret, verify_token
from service.store import IdempotencyConflict, Store
from tests.postgres import postgres_server, reset_database


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=pytest.mark.server),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        reset_database(url)
    db = Store(url)
    yield db
    db.close()


def new_job(store: Store, key: str = "k1", idem: str | None = None, request_hash: str = "h") -> str:
    job, _ = store.create_job(
        key_id=key, brand="b", request={"brand": "b"}, request_hash=request_hash, idempotency_key=idem
    )
    return job.id


def test_claims_are_exclusive_under_concurrency(store: Store) -> None:
    ids = {new_job(store) for _ in range(20)}
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while (job := store.claim(name)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)  # every job once, none twice
    assert store.counts_by_state()["running"] == 20


def test_idempotency_under_a_race(store: Store) -> None:
    results: list[str] = []
    errors: list[Exception] = []

    def create() -> None:
        try:
            results.append(new_job(store, idem="same"))
        except Exception as exc:  # pragma: no cover - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(results)) == 1
    assert len(store.list_jobs()) == 1
    with pytest.raises(IdempotencyConflict):
        new_job(store, idem="same", request_hash="other")
    assert new_job(store, key="k2", idem="same") != results[0]


def test_only_the_owner_finishes_and_results_are_whole(store: Store) -> None:
    job_id = new_job(store)
    job = store.claim("w1")
    assert job is not None and job.id == job_id and job.attempts == 1
    assert not store.finish(job_id, "w2", "done", result="{}")
    assert store.finish(job_id, "w1", "done", summary={"pieces": 1}, result='{"pieces": []}')
    assert not store.finish(job_id, "w1", "failed", message="late")
    done = store.get_job(job_id)
    assert done is not None and done.state == "done" and done.summary == {"pieces": 1}
    assert store.get_result(job_id) == '{"pieces": []}'
    assert [e.data["state"] for e in store.events(job_id) if e.kind == "state"] == [
        "queued",
        "running",
        "done",
    ]


def test_stale_jobs_are_interrupted_and_retried(store: Store) -> None:
    job_id = new_job(store)
    assert store.claim("otherhost:1:x#0") is not None
    assert store.mark_interrupted(stale_after=60) == []  # a live heartbeat
    time.sleep(0.05)
    assert store.mark_interrupted(stale_after=0.01) == [job_id]
    job = store.get_job(job_id)
    assert job is not None and job.state == "interrupted" and "retry" in (job.message or "")
    assert not store.finish(job_id, "otherhost:1:x#0", "done", result="{}")  # the lost worker cannot write
    assert store.retry(job_id) and not store.retry(job_id)
    again = store.claim("w2")
    assert again is not None and again.id == job_id and again.attempts == 2


def test_dead_local_process_is_interrupted_at_once(store: Store) -> None:
    import socket
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    job_id = new_job(store)
    assert store.claim(f"{socket.gethostname()}:{dead.stdout.strip()}:abcd#0") is not None
    assert store.mark_interrupted(stale_after=3600) == [job_id]


def test_cancel_queued_and_running(store: Store) -> None:
    first, second = new_job(store), new_job(store)
    claimed = store.claim("w")  # the oldest
    assert claimed is not None and claimed.id == first
    assert store.cancel(second) == "cancelled"  # queued: at once
    assert store.cancel(first) == "cancelling"  # running: its worker sees it at the next heartbeat
    assert store.heartbeat("w", [first]) == {first}
    assert store.finish(first, "w", "cancelled")
    assert store.cancel(first) is None and store.cancel(second) is None


def test_keys_are_hashed_and_revocable(store: Store) -> None:
    made = create_key(store, "cms", ["check"])
    secret = made.token.split("_", 2)[2]
    record = store.get_key(made.record.id)
    assert record is not None and record.secret_hash == hash_secret(secret) and secret not in repr(record)
    assert verify_token(store, made.token) == record
    assert verify_token(store, made.token[:-1] + ("A" if made.token[-1] != "A" else "B")) is None
    assert store.revoke_key(made.record.id) and verify_token(store, made.token) is None
    store.audit("key", "campaign.create", "job:1", {"brand": "b"})
    assert store.audit_entries()[-1]["detail"] == {"brand": "b"}


def test_the_active_job_cap_holds_under_concurrent_requests(store: Store) -> None:
    from service.store import ActiveJobLimit

    made = create_key(store, "capped", ["campaign:run"], max_active_jobs=2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(n: int) -> None:
        try:
            store.create_job(
                key_id=made.record.id, brand="b", request={"n": n}, request_hash=str(n), max_active=2
            )
            result = "queued"
        except ActiveJobLimit:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["queued"] * 2 + ["refused"] * 8
    assert store.count_active(made.record.id) == 2
    job = store.claim("w")
    assert job is not None and store.finish(job.id, "w", "failed", message="x")
    assert store.create_job(key_id=made.record.id, brand="b", request={}, request_hash="z", max_active=2)[1]
    with pytest.raises(ActiveJobLimit):
        store.retry(job.id, max_active=2)


@pytest.mark.unit
def test_a_bad_database_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    from pipelines.cli import main
    from tests.servers import free_port

    assert main(["keys", "list", "--database", "mysql://somewhere/db"]) == 2
    assert "unsupported database URL 'mysql'" in capsys.readouterr().err
    url = f"postgresql+psycopg://someone:s3cret@127.0.0.1:{free_port()}/db"
    assert main(["keys", "list", "--database", url]) == 2
    err = capsys.readouterr().err
    assert "cannot open the database" in err and "s3cret" not in err and "Traceback" not in err


def test_a_done_job_opens_its_reviews_and_the_audit_log_is_append_only(store: Store) -> None:
    """On both databases: finishing a campaign job opens one review per piece in the same transaction,
    and the database itself refuses to change or delete audit rows."""
    import json

    import sqlalchemy as sa

    from service.review import Reviews

    job_id = new_job(store)
    claimed = store.claim("w1")
    assert claimed is not None and claimed.id == job_id
    pieces = [
        {
            "channel": "search_ad",
            "fields": {"headline_1": "A"},
            "compliance": {"verdict": "pass", "findings": []},
        },
        {
            "channel": "email",
            "fields": {"subject": "B"},
            "compliance": {"verdict": "blocked", "findings": []},
        },
    ]
    assert store.finish(job_id, "w1", "done", result=json.dumps({"pieces": pieces}))
    reviews = Reviews(store).for_job(job_id)
    assert [(r.channel, r.state, r.verdict) for r in reviews] == [
        ("search_ad", "pending_review", "pass"),
        ("email", "pending_review", "blocked"),
    ]
    store.audit("user:mia", "review.approve", f"review:{reviews[0].id}", {})
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert store.audit_entries()[-1]["actor"] == "user:mia"
