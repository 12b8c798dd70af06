"""The OpenAI-compatible client against a misbehaving server (issue 16): a start-up probe that fails fast,
the served model's real id, bounded timeouts, retries and request counts, capped and validated replies,
and validated ranges for every numeric backend and pipeline knob.

The server is a scriptable stub on 127.0.0.1 (defined here and reused by test_batch_integrity.py); the
real llama.cpp server is never started.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from backends import BackendError, create_backend, validate_backend_config
from backends.fake import FakeBackend, FakeConfig
from backends.openai_compat import MAX_REPLY_BYTES, OpenAIConfig
from backends.registry import REGISTRY, accepting
from core.errors import InputError
from pipelines.cli import main
from tests.conftest import EXAMPLES
from tests.servers import free_port

pytestmark = [pytest.mark.unit, pytest.mark.security]
ROOT = Path(__file__).resolve().parents[2]
MESSAGES = [{"role": "user", "content": "A headline, please."}]


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    chunked: bool = False  # no Content-Length: the client cannot know the size in advance


@dataclass
class Seen:
    method: str
    path: str
    body: dict[str, Any] | None
    at: float


Handler = Callable[[Seen], Reply]


def models(*ids: str) -> Reply:
    return Reply(body={"object": "list", "data": [{"id": i, "object": "model"} for i in ids]})


def chat(content: str, model: str = "stub-model") -> Reply:
    return Reply(
        body={
            "id": "x",
            "object": "chat.completion",
            "model": model,
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }
    )


def fake_model_server(model_id: str) -> Handler:
    """Serves ``model_id``: /models lists it and chat requests get the fake backend's answer to the same
    messages and schema, so a whole campaign runs against it."""
    fake = FakeBackend(FakeConfig())

    def handle(seen: Seen) -> Reply:
        if seen.method == "GET":
            return models(model_id)
        assert seen.body is not None
        schema = (seen.body.get("response_format") or {}).get("json_schema", {}).get("schema")
        text = fake.complete(seen.body["messages"], json_schema=schema).text
        return chat(text, model=model_id)

    return handle


@contextlib.contextmanager
def stub_server(handle: Handler) -> Iterator[tuple[str, list[Seen]]]:
    """Yields the ``/v1`` base URL and the list of requests seen so far."""
    seen: list[Seen] = []
    lock = threading.Lock()

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = Seen(self.command, self.path, json.loads(raw) if raw else None, time.monotonic())
            with lock:
                seen.append(request)
            reply = handle(request)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(body), 1 << 16):
                        piece = body[start : start + (1 << 16)]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up reading (a reply over its cap): expected

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
    server.daemon_threads = True
    # A client that stops reading (a reply over its cap) can break the connection while the handler
    # flushes; that is the test's server, not BrandForge, so it must not print a traceback to stderr.
    server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()


def openai(url: str, **config: Any) -> Any:
    return create_backend(OpenAIConfig(base_url=url, **config))


def always(reply: Reply) -> Handler:
    return lambda seen: reply


def models_ok_chat(reply: Reply, model_id: str = "stub-model") -> Handler:
    return lambda seen: models(model_id) if seen.method == "GET" else reply


# --- start-up probe and the served model's id ------------------------------------------------------


def test_model_name_is_the_served_id_taken_at_start() -> None:
    with stub_server(models_ok_chat(chat("{}"), "Qwen/Qwen2.5-7B-Instruct")) as (url, seen):
        backend = openai(url)  # no backend.model: the server says which model answers
        assert backend.model_name == "Qwen/Qwen2.5-7B-Instruct"
        backend.complete(MESSAGES)
    assert [s.method for s in seen] == ["GET", "POST"]
    assert seen[1].body is not None and seen[1].body["model"] == "Qwen/Qwen2.5-7B-Instruct"


def test_a_model_the_server_does_not_serve_is_refused_at_start() -> None:
    with (
        stub_server(models_ok_chat(chat("{}"), "model-a")) as (url, seen),
        pytest.raises(BackendError, match=r"does not serve model 'model-b'.*valid choices: \['model-a'\]"),
    ):
        openai(url, model="model-b").warm_up()
    assert [s.method for s in seen] == ["GET"]  # nothing was generated


def test_unreachable_server_fails_at_warm_up_fast() -> None:
    backend = openai(f"http://127.0.0.1:{free_port()}/v1", model="m", max_retries=1)
    started = time.monotonic()
    with pytest.raises(BackendError, match="cannot reach OpenAI-compatible server"):
        backend.warm_up()
    assert time.monotonic() - started < 10


def test_campaign_cli_against_a_closed_port_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Before: with --model set nothing probed the server; the first call failed mid-campaign and the CLI
    wrote a campaign of blocked pieces and exited 1. Now warm-up fails first: exit 2, no file."""
    out = tmp_path / "campaign.json"
    code = main(
        [
            "campaign",
            str(EXAMPLES / "tidewater"),
            "--channels",
            "social_post",
            "--backend",
            "openai",
            "--base-url",
            f"http://127.0.0.1:{free_port()}/v1",
            "--model",
            "m",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "cannot reach OpenAI-compatible server" in err and "Traceback" not in err
    assert not out.exists()


# --- timeouts and retries: bounded count and rate ----------------------------------------------------


def test_default_timeouts_are_sane() -> None:
    config = OpenAIConfig()
    assert config.timeout_s == 300 and config.connect_timeout_s <= 10 and config.max_retries <= 5
    with stub_server(models_ok_chat(chat("{}"))) as (url, _):
        backend = openai(url)
        backend.warm_up()
        timeout = backend._http.timeout
    assert (timeout.connect, timeout.read) == (config.connect_timeout_s, config.timeout_s)


def test_always_500_server_gets_a_bounded_number_of_requests_at_a_bounded_rate() -> None:
    """1 + max_retries requests per call, spaced by the backoff; then a BackendError (no traceback, no
    repair loop on top). The issue saw 1,153 requests in 60 s against such a server."""
    with stub_server(always(Reply(500, {"error": {"message": "boom"}}))) as (url, seen):
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"answered 500 to GET /models: boom \(tried 3 times\)"):
            openai(url, model="m", max_retries=2).complete(MESSAGES)
        elapsed = time.monotonic() - started
    assert len(seen) == 3  # the start-up probe failed: no chat request was ever sent
    assert elapsed >= 1.0  # backoff 0.5 s then 1 s (jitter: at least 0.75 of each)

    with stub_server(models_ok_chat(Reply(503, {"error": {"message": "overloaded"}}))) as (url, seen):
        backend = openai(url, model="stub-model", max_retries=2)
        started = time.monotonic()
        for _ in range(2):
            with pytest.raises(BackendError, match=r"answered 503 to POST /chat/completions"):
                backend.complete(MESSAGES)
        elapsed = time.monotonic() - started
    posts = [s for s in seen if s.method == "POST"]
    assert len(posts) == 6  # 2 calls x (1 + 2 retries), exactly
    gaps = [b.at - a.at for a, b in itertools.pairwise(posts) if b is not posts[3]]
    assert min(gaps) >= 0.3 and len(posts) / elapsed < 4  # never a burst


def test_retry_after_is_honoured_but_capped() -> None:
    from backends.openai_compat import _backoff

    assert _backoff(1, "86400") == 30  # a server cannot park us for a day
    assert 0.375 <= _backoff(1, "0") <= 0.5  # nor make us hammer it
    assert _backoff(12, None) <= 8
    reply = Reply(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "1.5"})
    with stub_server(models_ok_chat(reply)) as (url, seen):
        started = time.monotonic()
        with pytest.raises(BackendError, match="429"):
            openai(url, model="stub-model", max_retries=1).complete(MESSAGES)
        elapsed = time.monotonic() - started
    assert len([s for s in seen if s.method == "POST"]) == 2 and elapsed >= 1.4


def test_a_slow_reply_times_out_once_and_is_not_retried() -> None:
    with stub_server(models_ok_chat(Reply(body=chat("{}").body, delay_s=4))) as (url, seen):
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"sent no answer to POST /chat/completions within 1 s"):
            openai(url, model="stub-model", timeout_s=1, max_retries=3).complete(MESSAGES)
        elapsed = time.monotonic() - started
    assert len([s for s in seen if s.method == "POST"]) == 1 and elapsed < 3.5


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        ("max_retries", 1000),
        ("max_retries", -1),
        ("timeout_s", 0),
        ("timeout_s", 1e9),
        ("connect_timeout_s", 0),
        ("connect_timeout_s", 3600),
        ("max_tokens", 10**7),
        ("n_ctx", 10**8),
        ("n_threads", 10**6),
        ("concurrency", 100_000),
        ("temperature", 50),
        ("top_p", 0),
        ("seed", -1),
        ("seed", 2**64),
        ("delay_s", 10**6),
        ("kv_state_cache_mb", 10**9),
        ("prompt_cache_mb", 10**12),
        ("gpu_memory_utilization", 5),
        ("tensor_parallel_size", 1000),
    ],
)
def test_every_numeric_backend_knob_is_bounded(tmp_path: Path, knob: str, value: float) -> None:
    kinds = accepting(knob)
    assert kinds, f"no backend has {knob}"
    for kind in kinds:
        with pytest.raises(InputError, match=rf"invalid configuration:\n  {knob}: "):
            validate_backend_config({"kind": kind, knob: value})
    text = (ROOT / "pipelines" / "default.yaml").read_text(encoding="utf-8")
    assert "  kind: llamacpp " in text
    path = tmp_path / "p.yaml"
    line = f"  {knob}: {value}" if knob == "max_tokens" else f"  max_tokens: 700\n  {knob}: {value}"
    text = text.replace("  max_tokens: 700", line).replace("  kind: llamacpp ", f"  kind: {kinds[0]} ")
    path.write_text(text, encoding="utf-8")
    from pipelines.spec import load_pipeline

    with pytest.raises(InputError, match=rf"p\.yaml: invalid configuration:\n  backend\.{knob}"):
        load_pipeline(path)


def test_every_numeric_field_of_every_registered_backend_has_bounds() -> None:
    """A new backend's numeric knob without a range fails here, not in production."""
    for kind, entry in REGISTRY.items():
        for name, prop in entry.config.model_json_schema()["properties"].items():
            options = prop.get("anyOf", [prop])
            numeric = [o for o in options if o.get("type") in ("integer", "number")]
            for option in numeric:
                low = "minimum" in option or "exclusiveMinimum" in option
                high = "maximum" in option or "exclusiveMaximum" in option
                assert low and high, f"{kind}.{name} is unbounded: {option}"


def test_pipeline_cannot_configure_hundreds_of_steps(tmp_path: Path) -> None:
    from pipelines.spec import load_pipeline

    steps = "".join("  - agent: reviewer\n" for _ in range(200))
    path = tmp_path / "many.yaml"
    path.write_text(
        "name: many\nsteps:\n  - agent: retriever\n  - agent: strategist\n  - agent: copywriter\n"
        + steps
        + "  - agent: compliance\n",
        encoding="utf-8",
    )
    with pytest.raises(
        InputError, match=r"many\.yaml: invalid configuration:\n  steps: List should have at most 16"
    ):
        load_pipeline(path)


# --- replies: garbage and oversized ----------------------------------------------------------------

GARBAGE = {
    "not JSON": Reply(body=b"<html>502 Bad Gateway</html>" * 10),
    "not UTF-8": Reply(body=b"\xff\xfe\x00garbage"),
    "deep nesting": Reply(body=b"[" * 100_000),
    "100k-digit number": Reply(body=b"1" * 100_000),
    "wrong shape": Reply(body={"choices": "lots"}),
    "no choices": Reply(body={"choices": []}),
    "message not an object": Reply(body={"choices": [{"message": ["a"] * 1000}]}),
    "10 MB with Content-Length": Reply(body=b'{"x": "' + b"a" * (10 << 20) + b'"}'),
    "10 MB chunked": Reply(body=b'{"x": "' + b"a" * (10 << 20) + b'"}', chunked=True),
    "gzip bomb": Reply(
        body=gzip.compress(b'{"x": "' + b"a" * (64 << 20) + b'"}'), headers={"Content-Encoding": "gzip"}
    ),
}


@pytest.mark.parametrize("case", list(GARBAGE))
def test_garbage_or_huge_chat_reply_is_a_short_backend_error(case: str) -> None:
    with stub_server(models_ok_chat(GARBAGE[case])) as (url, seen), pytest.raises(BackendError) as info:
        openai(url, model="stub-model").complete(MESSAGES)
    message = str(info.value)
    assert len(message) < 300 and "aaaaaaaaaa" not in message and "[[[[" not in message
    assert len([s for s in seen if s.method == "POST"]) == 1  # a bad reply is not retried


@pytest.mark.parametrize("case", ["not JSON", "wrong shape", "10 MB chunked", "deep nesting"])
def test_garbage_model_list_fails_the_start(case: str) -> None:
    with stub_server(always(GARBAGE[case])) as (url, _), pytest.raises(BackendError) as info:
        openai(url).warm_up()
    assert len(str(info.value)) < 300


def test_reply_cap_is_4_mb_and_an_honest_large_reply_fits() -> None:
    assert MAX_REPLY_BYTES == 4 << 20
    big = "word " * 200_000  # 1 MB of text: far more than max_tokens allows, still accepted
    with stub_server(models_ok_chat(chat(big))) as (url, _):
        assert openai(url, model="stub-model").complete(MESSAGES).text == big


def test_error_bodies_are_quoted_short() -> None:
    reply = Reply(400, {"error": {"message": "bad request " + "x" * 100_000}})
    with stub_server(models_ok_chat(reply)) as (url, _), pytest.raises(BackendError) as info:
        openai(url, model="stub-model").complete(MESSAGES)
    assert "answered 400" in str(info.value) and len(str(info.value)) < 300


def test_batch_cli_against_garbage_server_exits_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A 10 MB reply used to end in a traceback with exit 1; now the item fails with a short error."""
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(
        json.dumps({"id": "t", "brand": str(EXAMPLES / "tidewater"), "channels": ["social_post"]})
    )
    with stub_server(models_ok_chat(GARBAGE["10 MB chunked"])) as (url, _):
        code = main(
            ["batch", str(jobs), "--out", str(tmp_path / "run"), "--backend", "openai", "--base-url", url]
        )
    err = capsys.readouterr().err
    assert code == 4 and "Traceback" not in err  # incomplete: the backend failed the item (cli EXIT_HELP)
    (error,) = [json.loads(line) for line in (tmp_path / "run" / "errors.jsonl").read_text().splitlines()]
    assert "larger than 4 MB" in error["error"] and len(error["error"]) < 400


def test_auto_mode_still_falls_back_on_a_fastapi_refusal() -> None:
    """The rewritten client keeps the llama.cpp fallback: its Python server refuses json_schema with a
    FastAPI 422 whose detail names response_format."""
    refusal = Reply(
        422,
        {"detail": [{"loc": ["body", "response_format", "type"], "msg": "Input should be 'text'"}]},
    )

    def handle(seen: Seen) -> Reply:
        if seen.method == "GET":
            return models("stub-model")
        assert seen.body is not None
        return refusal if seen.body["response_format"]["type"] == "json_schema" else chat("{}")

    schema = {"type": "object", "properties": {}}
    with stub_server(handle) as (url, seen):
        backend = openai(url)
        assert backend.complete(MESSAGES, json_schema=schema).text == "{}"
        backend.complete(MESSAGES, json_schema=schema)
    formats = [s.body["response_format"] for s in seen if s.body is not None]
    assert [f["type"] for f in formats] == ["json_schema", "json_object", "json_object"]
    assert formats[1]["schema"] == schema and backend.structured_mode == "json_object_schema"
