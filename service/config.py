"""The service's settings: ``brandforge serve --config service.yaml`` and flags, validated in one model.

Contract: :class:`ServiceConfig` (``extra="forbid"``; every number has a range) is read from YAML with
:func:`core.yamlio.load_yaml` (``safe_load`` with size and alias limits) and then overridden by the
command-line flags given. ``database`` is a SQLAlchemy URL (``sqlite:///…`` by default,
``postgresql+psycopg://…`` for several replicas); ``brands_dir`` holds one folder per registered brand;
``backend`` overrides the default pipeline's backend for every job (kind, model, base_url, …) as
``--backend`` does for a campaign. ``workers`` is how many campaign jobs run at once in this process:
``None`` sizes it to the backend (1 for a model in this process, such as llama.cpp; more against a
server, which batches concurrent requests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.yamlio import load_yaml, validate_model

DEFAULT_DATABASE = "sqlite:///brandforge-service.db"


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=1, le=65535)
    database: str = Field(
        DEFAULT_DATABASE, description="SQLAlchemy URL: sqlite:///FILE or postgresql+psycopg://…"
    )
    brands_dir: Path = Field(
        Path("brands"), description="One folder per registered brand (brand.yaml + knowledge/)."
    )
    pipeline: str = Field("default", description="Pipeline a job runs when its request names none.")
    pipelines: list[str] = Field(
        default_factory=lambda: ["default"], description="Pipeline names a request may choose (no paths)."
    )
    backend: dict[str, Any] = Field(default_factory=dict, description="Backend overrides for every job.")
    data_dir: Path = Field(Path("service-data"), description="Batch run folders (shared by replicas).")
    ray_address: str | None = Field(
        None,
        description="Ray cluster for batches with executor ray: an address, or 'local' to start Ray in this "
        "process (None: executor ray is refused).",
    )
    workers: int | None = Field(
        None, ge=1, le=256, description="Campaign jobs at once (None: sized to the backend)."
    )
    max_body_bytes: int = Field(1024 * 1024, ge=1024, le=64 * 1024 * 1024, description="Largest JSON body.")
    max_document_bytes: int = Field(
        20 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024, description="Largest knowledge document upload."
    )
    heartbeat_s: float = Field(2.0, gt=0, le=60, description="How often a worker marks its jobs alive.")
    stale_after_s: float = Field(
        30.0, gt=0, le=3600, description="A running job without a heartbeat this long is interrupted."
    )
    shutdown_grace_s: float = Field(
        30.0, ge=0, le=3600, description="On SIGTERM, how long running jobs may finish before being requeued."
    )
    metrics_public: bool = Field(
        True, description="Serve /metrics without a key (for a scraper inside the network)."
    )
    warm_up: bool = Field(
        True, description="Load the model, embedder and semantic layer at start (/readyz waits)."
    )
    log_json: bool = Field(True, description="Structured JSON log lines on stderr.")


def load_service_config(path: Path | None, overrides: dict[str, Any] | None = None) -> ServiceConfig:
    """The settings from ``path`` (YAML, optional) with ``overrides`` (flags given) on top."""
    data: dict[str, Any] = {}
    if path is not None:
        loaded = load_yaml(path)
        if loaded is not None:
            data = loaded if isinstance(loaded, dict) else {"": loaded}
    data.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return validate_model(data, ServiceConfig, path or "service settings")
