"""A small Python client of the BrandForge service (``brandforge campaign --server URL`` uses it).

Contract: :class:`BrandForgeClient` wraps the routes of the OpenAPI document with httpx; every non-2xx
answer raises :class:`ServiceCallError` carrying the status, the error code, the message and the field
the server named. :meth:`BrandForgeClient.run_campaign` starts a job (with an idempotency key, so a
retried call never starts a second job), follows its server-sent events and returns the Campaign JSON.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import httpx


class ServiceCallError(RuntimeError):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}" + (f" (field: {field})" if field else ""))
        self.status, self.code, self.message, self.field = status, code, message, field


class BrandForgeClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 30.0) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> BrandForgeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceCallError(0, "unreachable", f"cannot reach {self.http.base_url}: {exc}") from None
        if response.status_code >= 400:
            self._raise(response)
        return response

    def brands(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/v1/brands").json())

    def check(self, text: str, **options: Any) -> dict[str, Any]:
        return dict(self._call("POST", "/v1/check", json={"text": text, **options}).json())

    def start_campaign(
        self,
        brand: str,
        *,
        channels: list[str] | None = None,
        idempotency_key: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"brand": brand, **extra}
        if channels:
            body["channels"] = channels
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        return dict(self._call("POST", "/v1/campaigns", json=body, headers=headers).json())

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/jobs/{job_id}").json())

    def result(self, job_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/jobs/{job_id}/result").json())

    def cancel(self, job_id: str) -> dict[str, Any]:
        return dict(self._call("DELETE", f"/v1/jobs/{job_id}").json())

    def retry(self, job_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/v1/jobs/{job_id}/retry").json())

    def events(self, job_id: str, last_event_id: int = 0) -> Iterator[dict[str, Any]]:
        """The job's events as ``{"id", "event", "data"}`` until it ends (reconnecting where it left off)."""
        headers = {"Last-Event-ID": str(last_event_id)} if last_event_id else {}
        while True:
            ended = False
            with self.http.stream(
                "GET", f"/v1/jobs/{job_id}/events", headers=headers, timeout=None
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    self._raise(response)
                event: dict[str, Any] = {}
                for line in response.iter_lines():
                    if not line:
                        if "data" in event:
                            yield event
                            if event.get("id", "").isdigit():
                                headers = {"Last-Event-ID": event["id"]}
                            data = event["data"]
                            if event.get("event") == "state" and data.get("state") in (
                                "done",
                                "failed",
                                "cancelled",
                                "interrupted",
                            ):
                                ended = True
                        event = {}
                        continue
                    if line.startswith(":"):
                        continue
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "data":
                        event["data"] = json.loads(value)
                    elif name in ("event", "id"):
                        event[name] = value
            if ended:
                return
            if self.job(job_id)["state"] in ("done", "failed", "cancelled", "interrupted"):
                return

    def _raise(self, response: httpx.Response) -> NoReturn:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            error = {"code": "error", "message": response.text[:500]}
        raise ServiceCallError(
            response.status_code, error.get("code", "error"), error.get("message", ""), error.get("field")
        )

    def run_campaign(
        self,
        brand: str,
        *,
        channels: list[str] | None = None,
        progress: Callable[[str], None] | None = None,
        instruction: str = "",
    ) -> dict[str, Any]:
        """Start a campaign job, follow it to its end and return the Campaign JSON (ServiceCallError when
        the job does not end ``done``)."""
        job = self.start_campaign(
            brand, channels=channels, **({"instruction": instruction} if instruction else {})
        )
        for event in self.events(job["id"]):
            if progress is not None:
                data = event["data"]
                progress(data.get("message") or f"job {data.get('state')}")
        final = self.job(job["id"])
        if final["state"] != "done":
            raise ServiceCallError(409, final["state"], final.get("message") or f"job ended {final['state']}")
        return self.result(job["id"])
