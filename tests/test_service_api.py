"""The HTTP service in process (FastAPI's TestClient), the fake backend, SQLite: auth matrix, the job
lifecycle, server-sent events, idempotency, cancel and retry, brands and documents, bad input, limits,
metrics, the audit log and the OpenAPI document."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agents.state import Campaign
from service.app import create_app
from service.auth import SCOPES, create_key
from service.config import ServiceConfig
from service.store import Store
from tests.conftest import copy_brand

pytestmark = pytest.mark.unit


@contextmanager
def running_service(tmp_path: Path, **settings: Any) -> Iterator[tuple[TestClient, Store]]:
    brands = tmp_path / "brands"
    if not brands.exists():
        brands.mkdir()
        copy_brand("wanderly", brands)
    backend = settings.pop("backend", {"kind": "fake"})
    settings.setdefault("data_dir", tmp_path / "data")
    config = ServiceConfig(
        database=f"sqlite:///{tmp_path / 'service.db'}",
        brands_dir=brands,
        backend=backend,
        warm_up=False,
        heartbeat_s=0.2,
        **settings,
    )
    store = Store(config.database)
    with TestClient(create_app(config, store=store)) as client:
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, client.get("/readyz").json()
            time.sleep(0.05)
        yield client, store
    store.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    with running_service(tmp_path) as pair:
        yield pair


@pytest.fixture
def admin(service: tuple[TestClient, Store]) -> dict[str, str]:
    return bearer(create_key(service[1], "admin", ["admin"], rate_per_minute=100_000).token)


def wait_state(
    client: TestClient, job_id: str, headers: dict[str, str], states: set[str], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["state"] in states:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def sse_events(client: TestClient, job_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    events, current = [], {}
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if not line:
                if current:
                    events.append(current)
                current = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                current[name] = json.loads(value) if name == "data" else value
    if current:
        events.append(current)
    return events


# --- auth -----------------------------------------------------------------------------------------

BRAND_YAML = {
    "name": "Tideglass",
    "positioning": "Glassware blown by hand on the coast.",
    "locale": "en",
    "industry": "general",
    "channels": ["search_ad"],
}
ROUTES: list[tuple[str, str, str | tuple[str, ...] | None, dict[str, Any] | None]] = [
    ("POST", "/v1/campaigns", "campaign:run", {"brand": "wanderly", "channels": ["search_ad"]}),
    ("GET", "/v1/jobs", ("campaign:run", "review"), None),
    ("POST", "/v1/check", "check", {"text": "A calm walk by the sea.", "locale": "en", "rules_only": True}),
    ("PUT", "/v1/brands/tideglass", "brands:write", {"brand": BRAND_YAML}),
    ("GET", "/v1/keys", "admin", None),
    ("GET", "/v1/audit", "admin", None),
    ("GET", "/v1/brands", None, None),
]


def test_auth_matrix(service: tuple[TestClient, Store]) -> None:
    client, store = service
    keys = {scope: bearer(create_key(store, scope, [scope], max_active_jobs=50).token) for scope in SCOPES}
    revoked = create_key(store, "gone", list(SCOPES))
    store.revoke_key(revoked.record.id)
    for method, path, scope, body in ROUTES:

        def call(headers: dict[str, str], m: str = method, p: str = path, b: Any = body) -> Any:
            return client.request(m, p, json=b, headers=headers)

        for headers in (
            {},
            {"Authorization": "Bearer nonsense"},
            {"Authorization": "Basic abc"},
            bearer(revoked.token),
        ):
            answer = call(headers)
            assert answer.status_code == 401, (method, path, headers, answer.text)
            assert answer.headers["www-authenticate"] == "Bearer"
            assert answer.json()["error"]["code"] == "unauthorized"
        for have, headers in keys.items():
            answer = call(headers)
            scopes = (scope,) if isinstance(scope, str) else scope or ()
            allowed = scope is None or have in (*scopes, "admin")
            if allowed:
                assert answer.status_code < 300, (method, path, have, answer.text)
            else:
                assert answer.status_code == 403, (method, path, have, answer.text)
                assert scopes[0] in answer.json()["error"]["message"]


def test_a_key_sees_only_its_own_jobs_unless_it_reviews(service: tuple[TestClient, Store]) -> None:
    client, store = service
    alice = bearer(create_key(store, "alice", ["campaign:run"]).token)
    bob = bearer(create_key(store, "bob", ["campaign:run"]).token)
    reviewer = bearer(create_key(store, "rev", ["campaign:run", "review"]).token)
    job = client.post(
        "/v1/campaigns", json={"brand": "wanderly", "channels": ["search_ad"]}, headers=alice
    ).json()
    assert client.get(f"/v1/jobs/{job['id']}", headers=bob).status_code == 404
    assert client.delete(f"/v1/jobs/{job['id']}", headers=bob).status_code == 404
    assert client.get("/v1/jobs", headers=bob).json() == []
    assert client.get(f"/v1/jobs/{job['id']}", headers=reviewer).status_code == 200
    assert [j["id"] for j in client.get("/v1/jobs", headers=alice).json()] == [job["id"]]
    only_review = bearer(create_key(store, "legal", ["review"]).token)
    assert client.get(f"/v1/jobs/{job['id']}", headers=only_review).status_code == 200  # review reads...
    assert (
        client.delete(f"/v1/jobs/{job['id']}", headers=reviewer).status_code == 404
    )  # ...but changes only its own
    assert client.post(f"/v1/jobs/{job['id']}/retry", headers=reviewer).status_code == 404


# --- jobs -----------------------------------------------------------------------------------------


def test_job_lifecycle_result_is_the_cli_campaign_json(
    service: tuple[TestClient, Store], admin: dict[str, str]
) -> None:
    client, _ = service
    answer = client.post(
        "/v1/campaigns", json={"brand": "wanderly", "channels": ["search_ad", "social_post"]}, headers=admin
    )
    assert answer.status_code == 202
    job = answer.json()
    assert job["state"] in ("queued", "running")
    assert answer.headers["location"] == f"/v1/jobs/{job['id']}"
    assert client.get(f"/v1/jobs/{job['id']}/result", headers=admin).status_code in (409, 200)
    done = wait_state(client, job["id"], admin, {"done", "failed"})
    assert done["state"] == "done", done
    assert done["summary"]["pieces"] == 2 and done["summary"]["llm_calls"] > 0
    assert done["links"]["result"] == f"/v1/jobs/{job['id']}/result"
    result = client.get(f"/v1/jobs/{job['id']}/result", headers=admin)
    assert result.headers["content-type"] == "application/json"
    campaign = Campaign.model_validate_json(result.text)
    assert sorted(p.channel for p in campaign.pieces) == ["search_ad", "social_post"]
    assert campaign.brand.name == "Wanderly"
    assert done["attempts"] == 1


def test_sse_streams_progress_until_the_end_and_resumes(
    service: tuple[TestClient, Store], admin: dict[str, str]
) -> None:
    client, _ = service
    job = client.post(
        "/v1/campaigns", json={"brand": "wanderly", "channels": ["search_ad"]}, headers=admin
    ).json()
    events = sse_events(client, job["id"], admin)
    states = [e["data"]["state"] for e in events if e["event"] == "state"]
    assert states[0] == "queued" and states[-1] == "done", states
    assert "running" in states
    progress = [e["data"]["message"] for e in events if e["event"] == "progress"]
    assert any("copywriter" in m for m in progress) and any("compliance" in m for m in progress)
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Reconnecting with Last-Event-ID gives only what came after it.
    middle = ids[len(ids) // 2]
    again = sse_events(client, job["id"], {**admin, "Last-Event-ID": str(middle)})
    assert [int(e["id"]) for e in again] == [i for i in ids if i > middle]


def test_idempotency_key_returns_the_same_job(
    service: tuple[TestClient, Store], admin: dict[str, str]
) -> None:
    client, store = service
    body = {"brand": "wanderly", "channels": ["search_ad"]}
    first = client.post("/v1/campaigns", json=body, headers={**admin, "Idempotency-Key": "order-17"})
    again = client.post("/v1/campaigns", json=body, headers={**admin, "Idempotency-Key": "order-17"})
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = client.post(
        "/v1/campaigns",
        json={**body, "channels": ["email"]},
        headers={**admin, "Idempotency-Key": "order-17"},
    )
    assert other.status_code == 409 and other.json()["error"]["field"] == "Idempotency-Key"
    # Another key's idempotency keys are its own.
    second_key = bearer(create_key(store, "other", ["campaign:run"]).token)
    theirs = client.post("/v1/campaigns", json=body, headers={**second_key, "Idempotency-Key": "order-17"})
    assert theirs.status_code == 202 and theirs.json()["id"] != first.json()["id"]
    assert len(client.get("/v1/jobs", headers=admin).json()) == 2
    bad = client.post("/v1/campaigns", json=body, headers={**admin, "Idempotency-Key": "tab\there"})
    assert bad.status_code == 422


def test_cancel_running_and_queued_jobs_then_retry(tmp_path: Path) -> None:
    with running_service(tmp_path, backend={"kind": "fake", "delay_s": 0.05}, workers=1) as (client, store):
        admin = bearer(create_key(store, "admin", ["admin"], rate_per_minute=100_000).token)
        body = {"brand": "wanderly", "channels": ["search_ad", "email"]}
        first = client.post("/v1/campaigns", json=body, headers=admin).json()
        second = client.post("/v1/campaigns", json=body, headers=admin).json()
        wait_state(client, first["id"], admin, {"running"})
        queued = client.delete(f"/v1/jobs/{second['id']}", headers=admin)
        assert queued.json()["state"] == "cancelled"
        assert client.delete(f"/v1/jobs/{first['id']}", headers=admin).json()["state"] == "cancelling"
        ended = wait_state(client, first["id"], admin, {"cancelled", "done"}, timeout=30)
        assert ended["state"] == "cancelled", ended
        assert client.get(f"/v1/jobs/{first['id']}/result", headers=admin).status_code == 409
        assert client.delete(f"/v1/jobs/{first['id']}", headers=admin).status_code == 409
        retried = client.post(f"/v1/jobs/{first['id']}/retry", headers=admin)
        assert retried.status_code == 202 and retried.json()["state"] in ("queued", "running")
        done = wait_state(client, first["id"], admin, {"done"}, timeout=60)
        assert done["attempts"] == 2
        assert client.post(f"/v1/jobs/{first['id']}/retry", headers=admin).status_code == 409
        actions = [e["action"] for e in store.audit_entries()]
        assert actions.count("campaign.cancel") == 2 and "campaign.retry" in actions


def test_rate_limit_and_active_job_cap(tmp_path: Path) -> None:
    with running_service(tmp_path, backend={"kind": "fake", "delay_s": 0.05}, workers=1) as (client, store):
        slow = bearer(create_key(store, "slow", ["check", "campaign:run"], rate_per_minute=3).token)
        body = {"text": "Fresh bread every morning.", "locale": "en", "rules_only": True}
        codes = [client.post("/v1/check", json=body, headers=slow).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = client.post("/v1/check", json=body, headers=slow)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        capped = bearer(create_key(store, "capped", ["campaign:run"], max_active_jobs=1).token)
        job = {"brand": "wanderly", "channels": ["search_ad"]}
        assert client.post("/v1/campaigns", json=job, headers=capped).status_code == 202
        over = client.post("/v1/campaigns", json=job, headers=capped)
        assert over.status_code == 429 and over.json()["error"]["code"] == "too_many_jobs"


# --- check ----------------------------------------------------------------------------------------


def test_check_answers_like_the_cli(service: tuple[TestClient, Store], admin: dict[str, str]) -> None:
    client, _ = service
    report = client.post(
        "/v1/check",
        json={"text": "全网最低价，100%有效！", "locale": "zh", "rules_only": True},
        headers=admin,
    ).json()
    assert report["verdict"] == "block" and report["locale"].startswith("zh")
    assert {f["category"] for f in report["findings"]} & {"superlative", "guarantee"}
    lines = client.post(
        "/v1/check",
        json={
            "text": "A quiet morning.\n\nThe best tea in the world.",
            "locale": "en",
            "lines": True,
            "rules_only": True,
        },
        headers=admin,
    ).json()
    assert [p["line"] for p in lines["pieces"]] == [1, 3]
    assert lines["pieces"][0]["verdict"] == "pass" and lines["pieces"][1]["verdict"] == "block"
    branded = client.post(
        "/v1/check", json={"text": "探索未知，发现美丽。", "brand": "wanderly"}, headers=admin
    )
    assert branded.status_code == 200 and branded.json()["locale"].startswith("zh")
    missing = client.post("/v1/check", json={"text": "hello"}, headers=admin)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "locale"


# --- brands ---------------------------------------------------------------------------------------


def test_register_brand_upload_documents_and_the_index_follows(
    service: tuple[TestClient, Store], admin: dict[str, str]
) -> None:
    client, store = service
    created = client.put("/v1/brands/tideglass", json={"brand": BRAND_YAML}, headers=admin)
    assert created.status_code == 201 and created.json()["documents"] == []
    replaced = client.put(
        "/v1/brands/tideglass",
        json={"brand": {**BRAND_YAML, "positioning": "Hand-blown glass."}},
        headers=admin,
    )
    assert replaced.status_code == 200 and replaced.json()["positioning"] == "Hand-blown glass."
    doc = "# Care\n\nEvery Tideglass tumbler is annealed for twelve hours and is dishwasher safe.\n"
    up = client.put("/v1/brands/tideglass/documents/care.md", content=doc.encode(), headers=admin)
    assert up.status_code == 200, up.text
    assert up.json()["created"] is True and up.json()["passages"] >= 1
    first_count = up.json()["passages"]
    more = "# Shipping\n\nWe ship in recycled paper within three days, to every EU country.\n" * 3
    up2 = client.put("/v1/brands/tideglass/documents/shipping.md", content=more.encode(), headers=admin)
    assert up2.json()["passages"] > first_count
    listed = client.get("/v1/brands/tideglass", headers=admin).json()
    assert [d["name"] for d in listed["documents"]] == ["care.md", "shipping.md"]
    gone = client.delete("/v1/brands/tideglass/documents/shipping.md", headers=admin)
    assert gone.status_code == 200
    assert client.delete("/v1/brands/tideglass/documents/shipping.md", headers=admin).status_code == 404
    job = client.post("/v1/campaigns", json={"brand": "tideglass"}, headers=admin).json()
    done = wait_state(client, job["id"], admin, {"done", "failed"})
    assert done["state"] == "done", done
    campaign = client.get(f"/v1/jobs/{job['id']}/result", headers=admin).json()
    assert {p["doc"] for p in campaign["passages"]} == {"knowledge/care.md"}
    actions = [(e["action"], e["target"]) for e in store.audit_entries()]
    assert ("brand.register", "brand:tideglass") in actions and (
        "brand.replace",
        "brand:tideglass",
    ) in actions
    assert ("document.put", "brand:tideglass/care.md") in actions and (
        "document.delete",
        "brand:tideglass/shipping.md",
    ) in actions
    assert all(e["actor"] for e in store.audit_entries())


@pytest.mark.parametrize(
    ("name", "data", "field"),
    [
        ("notes.md", b"\xff\xfe not utf-8 \x80", "body"),
        ("notes.txt", b"text\x00with NUL", "body"),
        ("tool.exe", b"MZ", "document"),
        (".hidden.md", b"# hi", "document"),
        ("a..b.md", b"# hi", "document"),
        ("notes.json", b'{"a": [1, 2', "body"),
        ("empty.md", b"", "body"),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_written(
    service: tuple[TestClient, Store], admin: dict[str, str], name: str, data: bytes, field: str
) -> None:
    client, _ = service
    before = client.get("/v1/brands/wanderly", headers=admin).json()["documents"]
    answer = client.put(f"/v1/brands/wanderly/documents/{name}", content=data, headers=admin)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert client.get("/v1/brands/wanderly", headers=admin).json()["documents"] == before


def test_invalid_brand_yaml_names_the_field_and_writes_nothing(
    service: tuple[TestClient, Store], admin: dict[str, str], tmp_path: Path
) -> None:
    client, _ = service
    answer = client.put("/v1/brands/tideglass", json={"brand": {**BRAND_YAML, "locale": 42}}, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "locale"
    unknown = client.put(
        "/v1/brands/tideglass", json={"brand": {**BRAND_YAML, "colour": "blue"}}, headers=admin
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "colour"
    escape = client.put(
        "/v1/brands/tideglass", json={"brand": {**BRAND_YAML, "knowledge_dir": "../../etc"}}, headers=admin
    )
    assert escape.status_code == 422 and escape.json()["error"]["field"] == "knowledge_dir"
    assert not (tmp_path / "brands" / "tideglass").exists()
    assert client.get("/v1/brands/tideglass", headers=admin).status_code == 404


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("POST", "/v1/campaigns", {"brand": "../etc"}, 422, "brand"),
        ("POST", "/v1/campaigns", {"brand": "Wanderly/../x"}, 422, "brand"),
        ("POST", "/v1/campaigns", {"brand": "nosuchbrand"}, 422, "brand"),
        ("POST", "/v1/campaigns", {"brand": "wanderly", "channels": ["fax"]}, 422, None),
        ("POST", "/v1/campaigns", {"brand": "wanderly", "channels": "search_ad"}, 422, "channels"),
        ("POST", "/v1/campaigns", {"brand": "wanderly", "extra": 1}, 422, "extra"),
        (
            "POST",
            "/v1/campaigns",
            {"brand": "wanderly", "overrides": {"temperature": "hot"}},
            422,
            "overrides.temperature",
        ),
        (
            "POST",
            "/v1/campaigns",
            {"brand": "wanderly", "overrides": {"model": "gpt"}},
            422,
            "overrides.model",
        ),
        ("POST", "/v1/campaigns", {"brand": "wanderly", "pipeline": "../../etc/passwd"}, 422, "pipeline"),
        ("POST", "/v1/campaigns", {"brand": "wanderly", "pipeline": "other"}, 422, "pipeline"),
        ("POST", "/v1/campaigns", [1, 2], 422, None),
        ("POST", "/v1/check", {"text": ""}, 422, "text"),
        ("POST", "/v1/check", {"text": "x", "locale": "english"}, 422, "locale"),
        ("GET", "/v1/jobs/" + "0" * 32, None, 404, "job_id"),
        ("GET", "/v1/jobs/../../etc", None, 404, None),
        ("GET", "/v1/jobs/not-a-job-id", None, 422, "job_id"),
        ("GET", "/v1/jobs?state=exploded", None, 422, "state"),
        ("GET", "/v1/jobs?limit=-1", None, 422, "limit"),
        ("PUT", "/v1/brands/..", {"brand": BRAND_YAML}, 404, None),
        ("PUT", "/v1/brands/UPPER", {"brand": BRAND_YAML}, 422, "name"),
        ("PUT", "/v1/brands/wanderly/documents/..%2F..%2Fbrand.yaml", b"x", 404, None),
        ("PUT", "/v1/brands/wanderly/documents/..", b"x", 422, None),  # normalised to /v1/brands/wanderly
        ("PUT", "/v1/brands/wanderly/documents/%2Fetc%2Fpasswd.md", b"x", 404, None),
        ("PUT", "/v1/brands/nosuch/documents/a.md", b"x", 404, "name"),
        ("GET", "/v1/brands/nosuch", None, 404, "name"),
        ("DELETE", "/v1/keys/zzz", None, 422, "key_id"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(
    service: tuple[TestClient, Store],
    admin: dict[str, str],
    method: str,
    path: str,
    body: Any,
    status: int,
    field: str | None,
) -> None:
    client, store = service
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
    answer = client.request(method, path, headers=admin, **kwargs)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["status"] == status and error["message"] and error["request_id"]
    if field is not None:
        assert error["field"] == field, error
    assert store.list_jobs() == []


def test_malformed_and_oversized_bodies(tmp_path: Path) -> None:
    with running_service(tmp_path, max_body_bytes=4096) as (client, store):
        admin = bearer(create_key(store, "admin", ["admin"], rate_per_minute=100_000).token)
        broken = client.post(
            "/v1/campaigns", content=b'{"brand": "wand', headers={**admin, "content-type": "application/json"}
        )
        assert broken.status_code == 422 and "JSON" in broken.json()["error"]["message"]
        big = client.post("/v1/check", json={"text": "x" * 10_000, "locale": "en"}, headers=admin)
        assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit still holds while reading
            yield b'{"text": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'", "locale": "en"}'

        streamed = client.post(
            "/v1/check", content=chunks(), headers={**admin, "content-type": "application/json"}
        )
        assert streamed.status_code == 413
        wrong_type = client.post(
            "/v1/check",
            content=b"text=hello",
            headers={**admin, "content-type": "application/x-www-form-urlencoded"},
        )
        assert wrong_type.status_code == 422
        assert store.list_jobs() == []


# --- operations -----------------------------------------------------------------------------------


def test_health_metrics_and_request_ids(service: tuple[TestClient, Store], admin: dict[str, str]) -> None:
    client, _ = service
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and ready["model"] == "fake-deterministic" and ready["workers"] >= 1
    echoed = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
    assert len(client.get("/healthz", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]) == 32
    job = client.post(
        "/v1/campaigns", json={"brand": "wanderly", "channels": ["search_ad"]}, headers=admin
    ).json()
    wait_state(client, job["id"], admin, {"done"})
    client.get("/v1/jobs/" + "f" * 32, headers=admin)
    text = client.get("/metrics").text
    metrics = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert metrics['brandforge_http_requests_total{method="POST",route="/v1/campaigns",status="202"}'] == 1
    assert metrics['brandforge_http_requests_total{method="GET",route="/v1/jobs/{job_id}",status="404"}'] == 1
    assert metrics['brandforge_jobs{state="done"}'] == 1 and metrics["brandforge_queue_depth"] == 0
    assert metrics["brandforge_model_calls_total"] > 5
    assert metrics["brandforge_prompt_tokens_total"] > metrics["brandforge_completion_tokens_total"] > 0
    assert metrics["brandforge_model_seconds_total"] >= 0
    assert metrics['brandforge_jobs_finished_total{outcome="done"}'] == 1
    assert any(k.startswith("brandforge_http_request_seconds_bucket") for k in metrics)
    assert not any("f" * 32 in k for k in metrics)  # routes are templates: label sets stay bounded


def test_keys_api_creates_shows_once_and_revokes(
    service: tuple[TestClient, Store], admin: dict[str, str]
) -> None:
    client, store = service
    made = client.post("/v1/keys", json={"name": "cms", "scopes": ["check"]}, headers=admin)
    assert made.status_code == 201
    token = made.json()["token"]
    # the secret: all after "bf_<id>_" (it may hold "_" itself: "bf_b4a9…_1_8g3r…" failed on "1")
    assert token.startswith("bf_") and token.split("_", 2)[2] not in json.dumps(
        client.get("/v1/keys", headers=admin).json()
    )
    assert not any(token in str(v) for k in store.list_keys() for v in k.__dict__.values())
    assert (
        client.post(
            "/v1/check", json={"text": "ok", "locale": "en", "rules_only": True}, headers=bearer(token)
        ).status_code
        == 200
    )
    bad = client.post("/v1/keys", json={"name": "x", "scopes": ["root"]}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["field"].startswith("scopes")
    assert client.delete(f"/v1/keys/{made.json()['id']}", headers=admin).status_code == 200
    assert (
        client.post("/v1/check", json={"text": "ok", "locale": "en"}, headers=bearer(token)).status_code
        == 401
    )


@pytest.mark.parametrize("name", ["\u000b", "  ", "\x1c\t"])
def test_a_key_name_of_only_whitespace_is_bad_input_not_a_server_error(
    service: tuple[TestClient, Store], admin: dict[str, str], name: str
) -> None:
    # Found by the schemathesis run in CI: "\u000b" passed min_length and failed inside create_key.
    client, store = service
    before = len(store.list_keys())
    bad = client.post("/v1/keys", json={"name": name, "scopes": ["check"]}, headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["field"].startswith("name")
    assert len(store.list_keys()) == before


def test_openapi_document_is_complete(service: tuple[TestClient, Store]) -> None:
    client, _ = service
    doc = client.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert op.get("summary"), (method, path)
            if path.startswith("/v1/"):
                assert op.get("security") == [{"HTTPBearer": []}], (method, path)
                assert "401" in op["responses"] and "422" in op["responses"], (method, path)
    schemas = doc["components"]["schemas"]
    assert schemas["CampaignRequest"]["examples"] and schemas["CheckRequest"]["examples"]
    assert schemas["CampaignRequest"]["additionalProperties"] is False
    assert (
        "text/event-stream" in doc["paths"]["/v1/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]
    )


def test_workers_are_sized_to_the_backend() -> None:
    from service.app import worker_count

    assert worker_count(ServiceConfig(), 1) == 1  # a model in this process: one job at a time
    assert worker_count(ServiceConfig(), 16) == 4  # a server that batches: jobs fan out their channels
    assert worker_count(ServiceConfig(), 2) == 2
    assert worker_count(ServiceConfig(workers=3), 1) == 3  # configured wins


def test_a_bug_is_a_500_with_the_request_id_of_its_log_line(
    service: tuple[TestClient, Store],
    admin: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, _ = service

    def broken() -> list[str]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(client.app.state.service.registry, "names", broken)  # type: ignore[attr-defined]
    client_no_raise = TestClient(client.app, raise_server_exceptions=False)
    answer = client_no_raise.get("/v1/brands", headers={**admin, "X-Request-ID": "trace-500"})
    assert answer.status_code == 500
    assert (
        answer.json()["error"]["request_id"] == "trace-500" and answer.headers["x-request-id"] == "trace-500"
    )
    assert "a bug" not in answer.text  # the details stay in the log
    logged = [r for r in caplog.records if r.name == "service.app" and r.exc_info]
    assert logged and logged[-1].request_id == "trace-500"  # type: ignore[attr-defined]
    from service.app import JsonLogFormatter

    line = json.loads(JsonLogFormatter().format(logged[-1]))
    assert "RuntimeError: a bug" in line["traceback"] and line["request_id"] == "trace-500"


def test_a_brand_whose_knowledge_dir_is_a_file_is_refused_and_nothing_is_written(
    service: tuple[TestClient, Store], admin: dict[str, str], tmp_path: Path
) -> None:
    client, _ = service
    answer = client.put(
        "/v1/brands/tideglass", json={"brand": {**BRAND_YAML, "knowledge_dir": "brand.yaml"}}, headers=admin
    )
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "knowledge_dir"
    assert not (tmp_path / "brands" / "tideglass" / "brand.yaml").exists()
    assert client.put("/v1/brands/tideglass", json={"brand": BRAND_YAML}, headers=admin).status_code == 201
    empty = client.post("/v1/campaigns", json={"brand": "tideglass"}, headers=admin)
    assert empty.status_code == 422 and "no knowledge documents" in empty.json()["error"]["message"]
    assert str(tmp_path) not in empty.text


def test_campaign_on_an_unreachable_server_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.cli import main
    from tests.servers import free_port

    monkeypatch.setenv("BRANDFORGE_SERVICE_KEY", "bf_000000000000_" + "x" * 43)
    code = main(["campaign", "wanderly", "--server", f"http://127.0.0.1:{free_port()}", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach" in err and "Traceback" not in err


def test_a_batch_runs_as_one_job_resumes_on_retry_and_returns_results_jsonl(tmp_path: Path) -> None:
    with running_service(tmp_path, data_dir=tmp_path / "data") as (client, store):
        admin = bearer(create_key(store, "admin", ["admin"], rate_per_minute=100_000).token)
        body = {
            "items": [
                {"id": "w-ad", "brand": "wanderly", "channels": ["search_ad"]},
                {"id": "w-social", "brand": "wanderly", "channels": ["social_post"]},
            ],
            "concurrency": 2,
        }
        answer = client.post("/v1/batches", json=body, headers=admin)
        assert answer.status_code == 202 and answer.json()["kind"] == "batch"
        job = wait_state(client, answer.json()["id"], admin, {"done", "failed"})
        assert job["state"] == "done", job
        assert job["summary"]["succeeded"] == 2 and job["summary"]["failed"] == 0
        result = client.get(f"/v1/jobs/{job['id']}/result", headers=admin)
        assert result.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in result.text.splitlines()]
        assert sorted(line["id"] for line in lines) == ["w-ad", "w-social"]
        assert {line["campaign"]["pieces"][0]["channel"] for line in lines} == {"search_ad", "social_post"}
        progress = [
            e["data"]["message"] for e in sse_events(client, job["id"], admin) if e["event"] == "progress"
        ]
        assert any("2/2 items" in m for m in progress)
        # The run folder is kept: a batch retried after a failure skips what is finished.
        store_job = store.get_job(job["id"])
        assert store_job is not None
        with store._tx() as conn:  # as if it had been interrupted
            from service.store import jobs

            conn.execute(jobs.update().where(jobs.c.id == job["id"]).values(state="interrupted"))
        assert client.post(f"/v1/jobs/{job['id']}/retry", headers=admin).status_code == 202
        again = wait_state(client, job["id"], admin, {"done", "failed"})
        assert again["state"] == "done" and again["summary"]["succeeded"] == 2 and again["attempts"] == 2
        assert again["summary"]["already_done"] == 2  # nothing was generated twice
        bad = [
            ({"items": [{"id": "a", "brand": "nosuch"}]}, "items.0.brand"),
            ({"items": [{"id": "a", "brand": "wanderly"}, {"id": "a", "brand": "wanderly"}]}, "items.1.id"),
            ({"items": [{"id": "a", "brand": "wanderly", "channels": ["fax"]}]}, "items.0.brand"),
            ({"items": []}, "items"),
            ({"items": [{"id": "../x", "brand": "wanderly"}]}, "items.0.id"),
            ({"items": [{"id": "a", "brand": "wanderly"}], "executor": "spark"}, "executor"),
        ]
        for payload, field in bad:
            refused = client.post("/v1/batches", json=payload, headers=admin)
            assert refused.status_code == 422 and refused.json()["error"]["field"] == field, refused.text
        assert len(store.list_jobs()) == 1


def test_limits_that_keep_one_client_from_starving_the_others(
    service: tuple[TestClient, Store], admin: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client, store = service
    many = client.post(
        "/v1/check", json={"text": "a calm walk\n" * 201, "locale": "en", "lines": True}, headers=admin
    )
    assert many.status_code == 422 and many.json()["error"]["field"] == "text"
    long = client.post("/v1/check", json={"text": "x" * 20_001, "locale": "en"}, headers=admin)
    assert long.status_code == 422 and long.json()["error"]["field"] == "text"
    ray = client.post(
        "/v1/batches", json={"items": [{"id": "a", "brand": "wanderly"}], "executor": "ray"}, headers=admin
    )
    assert ray.status_code == 422 and "ray_address" in ray.json()["error"]["message"]
    # A document the folder's limits refuse is not left on disk; the folder is as it was.
    import service.brands

    before = client.get("/v1/brands/wanderly", headers=admin).json()["documents"]
    used = sum(d["bytes"] for d in before)
    monkeypatch.setattr(service.brands, "MAX_KNOWLEDGE_BYTES", used + 100)
    refused = client.put(
        "/v1/brands/wanderly/documents/extra.md", content=b"# More\n\n" + b"x" * 200, headers=admin
    )
    assert refused.status_code == 422 and "limits" in refused.json()["error"]["message"]
    assert client.get("/v1/brands/wanderly", headers=admin).json()["documents"] == before
    # Revoking a key cancels its queued jobs.
    worker = create_key(store, "ci", ["campaign:run"], max_active_jobs=10)
    queued = [
        client.post(
            "/v1/campaigns",
            json={"brand": "wanderly", "channels": ["search_ad"]},
            headers=bearer(worker.token),
        ).json()["id"]
        for _ in range(3)
    ]
    assert client.delete(f"/v1/keys/{worker.record.id}", headers=admin).status_code == 200
    states = {store.get_job(j).state for j in queued}  # type: ignore[union-attr]
    assert "queued" not in states and states <= {"cancelled", "running", "done"}


@pytest.mark.parametrize(
    ("knowledge_dir", "why"),
    [
        (".", "own"),
        (".brandforge/index", "own"),
        ("channels", "own"),
        ("k/" + "x" * 300, "path"),
        ("a\u0000b", "NUL"),
    ],
)
def test_knowledge_dir_must_be_a_plain_folder_of_its_own(
    service: tuple[TestClient, Store], admin: dict[str, str], knowledge_dir: str, why: str
) -> None:
    client, _ = service
    answer = client.put(
        "/v1/brands/tideglass", json={"brand": {**BRAND_YAML, "knowledge_dir": knowledge_dir}}, headers=admin
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] in ("knowledge_dir", "brand")
    assert client.get("/v1/brands/tideglass", headers=admin).status_code == 404


def test_document_names_are_bounded_in_bytes(
    service: tuple[TestClient, Store], admin: dict[str, str]
) -> None:
    client, _ = service
    answer = client.put("/v1/brands/wanderly/documents/" + "文" * 120 + ".md", content=b"# hi", headers=admin)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "document"


def test_a_job_that_cannot_run_fails_saying_why(
    service: tuple[TestClient, Store], admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.errors import InputError

    client, _ = service
    workers = client.app.state.service.workers  # type: ignore[attr-defined]
    errors = iter([InputError("brand.yaml changed under the job", field="locale"), RuntimeError("a bug")])

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise next(errors)

    monkeypatch.setattr(workers.registry, "index", broken)
    first = client.post(
        "/v1/campaigns", json={"brand": "wanderly", "channels": ["search_ad"]}, headers=admin
    ).json()
    failed = wait_state(client, first["id"], admin, {"failed", "done"})
    assert failed["state"] == "failed" and "brand.yaml changed under the job" in failed["message"]
    second = client.post(
        "/v1/campaigns", json={"brand": "wanderly", "channels": ["search_ad"]}, headers=admin
    ).json()
    bug = wait_state(client, second["id"], admin, {"failed", "done"})
    assert bug["state"] == "failed" and bug["message"] == "internal error (RuntimeError); see the server log"
