"""A real OpenAI-compatible HTTP endpoint on 127.0.0.1 that answers every structured request with valid
JSON and records when each request was in flight — to show what a backend sends concurrently.

``GET /v1/models`` lists one model; ``POST /v1/chat/completions`` answers after ``latency_s`` with the
fake backend's deterministic, schema-valid JSON for the request's schema (``response_format`` json_schema
or json_object+schema, or a forced tool's parameters). The answer depends only on the messages, so two
runs that send the same requests get the same answers whatever their timing. Each request is recorded
with its start and end time, its last user message and its schema's top-level keys (which tell a draft
from a review); :func:`peak_in_flight` is the most of some requests that were being answered at once.
Used by tests/test_session.py and bench/fanout.py.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from backends.fake import FakeBackend, FakeConfig


@dataclass(frozen=True)
class Request:
    started: float
    finished: float
    prompt: str  # the last user message
    answer_keys: frozenset[str]  # the top-level properties of the requested schema


def peak_in_flight(requests: list[Request]) -> int:
    """The most of ``requests`` that were being answered at once."""
    # Sweep over start (+1) and end (-1) events; at equal times an end comes first (not overlapping).
    events = sorted([(r.started, 1) for r in requests] + [(r.finished, -1) for r in requests])
    peak = current = 0
    for _, change in events:
        current += change
        peak = max(peak, current)
    return peak


def _schema_of(body: dict[str, Any]) -> dict[str, Any] | None:
    response_format = body.get("response_format") or {}
    if "json_schema" in response_format:
        return dict(response_format["json_schema"]["schema"])
    if "schema" in response_format:
        return dict(response_format["schema"])
    for tool in body.get("tools") or []:
        return dict(tool["function"]["parameters"])
    return None


class SchemaEndpoint:
    """Start with ``with SchemaEndpoint(latency_s=...) as endpoint``; ``endpoint.base_url`` is the /v1 URL."""

    def __init__(self, latency_s: float = 0.0, model: str = "schema-endpoint") -> None:
        self.latency_s, self.model = latency_s, model
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._answers = FakeBackend(FakeConfig())
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def recorded(self, answer_keys: set[str] | None = None) -> list[Request]:
        """The requests answered so far, in the order they started; only those whose schema has exactly
        ``answer_keys`` as top-level properties, if given."""
        with self._lock:
            chosen = [r for r in self.requests if answer_keys is None or r.answer_keys == answer_keys]
        return sorted(chosen, key=lambda r: r.started)

    def peak_in_flight(self) -> int:
        """The most requests that were being answered at once."""
        return peak_in_flight(self.recorded())

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        messages = body["messages"]
        schema = _schema_of(body)
        time.sleep(self.latency_s)
        completion = self._answers.complete(messages, json_schema=schema)
        message: dict[str, Any] = {"role": "assistant", "content": completion.text}
        if body.get("tools"):
            name = body["tools"][0]["function"]["name"]
            function = {"name": name, "arguments": completion.text}
            call = {"id": "call-0", "type": "function", "function": function}
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
        prompt = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        with self._lock:
            keys = frozenset((schema or {}).get("properties", {}))
            self.requests.append(Request(started, time.monotonic(), prompt, keys))
        return {
            "id": "chatcmpl-0",
            "object": "chat.completion",
            "created": 0,
            "model": self.model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
            "usage": {
                "prompt_tokens": completion.prompt_tokens,
                "completion_tokens": completion.completion_tokens,
                "total_tokens": completion.prompt_tokens + completion.completion_tokens,
            },
        }

    def __enter__(self) -> SchemaEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real server: no reconnect per request

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": endpoint.model, "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                self._send(200, endpoint._answer(body))

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="schema-endpoint", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
