"""The backend registry: every backend kind with its config model, factory and description, in one place.

Contract:

- **A backend is one module** of this package that declares, at module level,
  ``BACKEND = BackendRegistration(ConfigModel, factory, "description")`` (:mod:`backends.fake` is the
  smallest example). Modules are found by reading their source, not by importing everything: only
  modules that declare ``BACKEND`` are imported, and they import their heavy dependencies (llama_cpp,
  vllm, langchain) only when a backend is created or warmed up. Adding a backend is that one file (and
  its tests); nothing here or in the CLI changes.
- **Derived from the registry**: :data:`BackendConfig` (the configs' union, discriminated by ``kind``),
  :func:`backend_kinds` (CLI choices), :func:`create_backend`, cache keys
  (:meth:`~backends.base.BaseBackendConfig.cache_key`: every field but the per-call sampling ones),
  :func:`resources` (what a Ray batch worker asks for) and ``docs/backends.md`` (:mod:`backends.docs`).
- **Validation** (:func:`validate_backend_config`, and any pydantic model with a ``BackendConfig``
  field such as the pipeline YAML): a missing ``kind`` means :data:`DEFAULT_KIND`; an unknown kind is
  answered with the valid choices; a field of another backend names the backends that accept it; an
  unknown field lists the backend's fields. Error locations are the YAML's (``backend.max_tokens``).
- **Overrides** (:func:`resolve_backend`): env vars (:data:`ENV_OVERRIDES`) and then explicit overrides
  (CLI flags, ``run_campaign(backend=...)``) are applied on top of the pipeline's ``backend:``. When a
  layer changes the kind, what earlier layers wrote for the other kind and the new one does not accept
  is dropped (and ``model``, which names a model of the other backend); a field set by the layer that
  chose the kind, or a later one, that the kind does not accept is an error naming where it came from.
"""

from __future__ import annotations

import ast
import importlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, Union, get_args

from pydantic import Field, TypeAdapter, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

from backends.base import BackendError, BackendRegistration, BaseBackendConfig, LLMBackend, RayResources
from core.errors import InputError, bounded_repr, format_validation_error

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_KIND = "llamacpp"  # the embedded model: what a pipeline without ``backend.kind`` runs on
DECLARATION = "BACKEND"  # the module-level name a backend module binds its registration to


def _declares_backend(path: Path) -> bool:
    """Whether a module's source binds :data:`DECLARATION` at top level (read, not imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == DECLARATION for t in targets):
            return True
    return False


def discover(package_dir: Path, package: str) -> dict[str, BackendRegistration]:
    """The registrations declared by the modules of ``package`` (in ``package_dir``), by kind; only
    modules whose source declares :data:`DECLARATION` are imported."""
    found: dict[str, BackendRegistration] = {}
    for path in sorted(package_dir.glob("*.py")):
        if path.stem.startswith("_") or not _declares_backend(path):
            continue
        module = importlib.import_module(f"{package}.{path.stem}")
        entry = getattr(module, DECLARATION)
        if not isinstance(entry, BackendRegistration):
            raise TypeError(f"{module.__name__}.{DECLARATION} must be a BackendRegistration")
        if entry.kind in found:
            raise TypeError(f"backend kind {entry.kind!r} is registered twice (again in {module.__name__})")
        found[entry.kind] = entry
    return dict(sorted(found.items()))


REGISTRY: Mapping[str, BackendRegistration] = MappingProxyType(
    discover(PACKAGE_DIR, __package__ or "backends")
)
if DEFAULT_KIND not in REGISTRY:
    raise TypeError(f"the default backend {DEFAULT_KIND!r} is not registered")


def backend_kinds() -> list[str]:
    """Every registered backend kind, sorted: the CLI's ``--backend`` choices."""
    return list(REGISTRY)


def registration(kind: str) -> BackendRegistration:
    """The registration of ``kind``; an unknown kind is an :class:`InputError` naming the valid ones."""
    entry = REGISTRY.get(kind)
    if entry is None:
        raise InputError(f"unknown backend {bounded_repr(kind)}; valid choices: {backend_kinds()}")
    return entry


def accepting(field: str) -> list[str]:
    """The kinds whose config has ``field``."""
    return [kind for kind, entry in REGISTRY.items() if field in entry.config.model_fields]


def _field_error(kind: str, field: str) -> PydanticCustomError:
    others = accepting(field)
    if others:
        return PydanticCustomError(
            "backend_field",
            "not a setting of backend '{kind}'; accepted by: {others}",
            {"kind": kind, "others": ", ".join(others)},
        )
    return PydanticCustomError(
        "backend_field",
        "unknown field for backend '{kind}' (check its spelling); valid fields: {valid}",
        {"kind": kind, "valid": ", ".join(REGISTRY[kind].config.model_fields)},
    )


_KNOWN_ERROR_TYPES = frozenset(get_args(ErrorType))


def _relocated(exc: ValidationError) -> list[InitErrorDetails]:
    """The union's errors without the ``kind`` tag pydantic puts first in their location, so they point
    at the YAML's own path (``backend.max_tokens``, not ``backend.llamacpp.max_tokens``)."""
    details: list[InitErrorDetails] = []
    for item in exc.errors(include_url=False):
        loc = tuple(item["loc"])
        if loc and loc[0] in REGISTRY:
            loc = loc[1:]
        detail: InitErrorDetails
        if item["type"] in _KNOWN_ERROR_TYPES:
            detail = {"type": item["type"], "loc": loc, "input": item.get("input")}
            if item.get("ctx"):
                detail["ctx"] = item["ctx"]
        else:  # a config's own custom error: its type, and its message as formatted (no context to fill)
            error = PydanticCustomError(item["type"], item["msg"])
            detail = {"type": error, "loc": loc, "input": item.get("input")}
        details.append(detail)
    return details


def _check_backend(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Wraps the discriminated union: default kind, clear messages for unknown kinds and fields."""
    details: list[InitErrorDetails] = []
    if isinstance(value, Mapping):
        data = dict(value)
        kind = data.setdefault("kind", DEFAULT_KIND)
        if not isinstance(kind, str) or kind not in REGISTRY:
            message = "unknown backend {kind}; valid choices: {choices}"
            error = PydanticCustomError(
                "backend_kind", message, {"kind": bounded_repr(kind), "choices": str(backend_kinds())}
            )
            raise ValidationError.from_exception_data(
                "BackendConfig", [{"type": error, "loc": ("kind",), "input": kind}]
            )
        fields = REGISTRY[kind].config.model_fields
        for key in [k for k in data if k not in fields]:
            details.append({"type": _field_error(kind, str(key)), "loc": (str(key),), "input": data.pop(key)})
        value = data
    try:
        result = handler(value)
    except ValidationError as exc:
        details += _relocated(exc)
    if details:
        raise ValidationError.from_exception_data("BackendConfig", details)
    return result


if TYPE_CHECKING:
    # Type checkers see the common base (narrow with isinstance for a backend's own fields); at run time
    # it is the union of every registered config, discriminated by ``kind``.
    BackendConfig: TypeAlias = BaseBackendConfig
else:
    BackendConfig = Annotated[
        Union[tuple(entry.config for entry in REGISTRY.values())],  # noqa: UP007 (built at run time)
        Field(discriminator="kind"),
        WrapValidator(_check_backend),
    ]

_adapter: TypeAdapter[BaseBackendConfig] = TypeAdapter(BackendConfig)


def validate_backend_config(
    data: Mapping[str, Any] | BaseBackendConfig, *, source: str | Path | None = None
) -> BackendConfig:
    """``data`` (e.g. a pipeline's ``backend:`` mapping) as the config of its kind; bad input is an
    :class:`InputError` listing every bad field, prefixed with ``source``."""
    try:
        return _adapter.validate_python(data)
    except ValidationError as exc:
        raise format_validation_error(exc, source) from None


def default_backend_config() -> BackendConfig:
    """The config of :data:`DEFAULT_KIND` with every default."""
    return validate_backend_config({})


def create_backend(config: BaseBackendConfig) -> LLMBackend:
    """A new, unshared backend for ``config`` (its model is loaded on first use)."""
    entry = REGISTRY.get(config.kind)
    if entry is None or not isinstance(config, entry.config):
        raise BackendError(
            f"no backend for a {type(config).__name__} of kind {config.kind!r}; "
            f"valid choices: {backend_kinds()}"
        )
    return entry.factory(config)


def resources(config: BaseBackendConfig) -> RayResources:
    """What one batch worker using ``config`` asks Ray for: ``ray.remote(**resources(config))``
    (``num_cpus``; ``num_gpus`` for in-process GPU backends such as vllm)."""
    return config.resources()


def micro_batches(config: BaseBackendConfig) -> bool:
    """Whether concurrent callers of this kind should share one backend through a micro-batcher."""
    return registration(config.kind).micro_batch


ENV_OVERRIDES = {
    "BRANDFORGE_BACKEND": "kind",
    "BRANDFORGE_MODEL": "model",
    "BRANDFORGE_BASE_URL": "base_url",
    "BRANDFORGE_API_KEY": "api_key",
}


def backend_overrides(value: str | BaseBackendConfig | Mapping[str, Any] | None) -> dict[str, Any]:
    """Explicit overrides from what an API caller passes as ``backend``: a kind, a config (its kind and
    the fields it set), or a mapping of fields."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"kind": value}
    if isinstance(value, BaseBackendConfig):
        return {"kind": value.kind, **value.model_dump(exclude_unset=True)}
    return dict(value)


def resolve_backend(
    config: BaseBackendConfig | Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> BackendConfig:
    """The backend config with env vars (:data:`ENV_OVERRIDES`) and then ``overrides`` (CLI flags,
    ``run_campaign(backend=...)``; ``None`` values ignored) applied on top of ``config`` (the pipeline
    YAML's). See the module docstring for what happens to fields when the kind changes."""
    environ = os.environ if environ is None else environ
    if isinstance(config, BaseBackendConfig):
        base = {**config.model_dump(exclude_unset=True), "kind": config.kind}
    else:
        base = {"kind": DEFAULT_KIND, **config}
    env_vars = {key: var for var, key in ENV_OVERRIDES.items() if environ.get(var)}
    explicit = {k: v for k, v in (overrides or {}).items() if v is not None}
    # (values, where each came from — for messages), lowest precedence first
    layers: list[tuple[dict[str, Any], dict[str, str]]] = [
        (base, {}),
        ({key: environ[var] for key, var in env_vars.items()}, env_vars),
        (explicit, {key: f"override {key}" for key in explicit}),
    ]
    chooser = max(n for n, (values, _) in enumerate(layers) if "kind" in values)
    kind = layers[chooser][0]["kind"]
    if not isinstance(kind, str) or kind not in REGISTRY:
        where = layers[chooser][1].get("kind", "backend.kind")
        raise InputError(f"{where}: unknown backend {bounded_repr(kind)}; valid choices: {backend_kinds()}")
    fields = REGISTRY[kind].config.model_fields
    merged: dict[str, Any] = {}
    written_for = base["kind"]
    for n, (values, sources) in enumerate(layers):
        written_for = values.get("kind", written_for)
        replaced = n < chooser and written_for != kind  # a later layer chose another backend
        for key, value in values.items():
            if replaced and (key not in fields or key == "model"):
                continue  # written for the other backend (a model name too): dropped
            if n == 1 and key not in fields and "kind" not in values:
                # A shell set up for another backend (BRANDFORGE_API_KEY for a server) must not stop a
                # pipeline of this one from loading: the variable is ignored, and the log says so.
                log.warning("%s is set but backend %r has no field %r; ignoring it", sources[key], kind, key)
                continue
            if n > 0 and key not in fields:
                others = accepting(key)
                raise InputError(
                    f"{sources[key]} sets backend.{key}, which backend {kind!r} does not accept"
                    + (f" (accepted by: {', '.join(others)})" if others else "")
                )
            merged[key] = value
    return validate_backend_config(merged, source="backend (pipeline YAML + BRANDFORGE_* env + overrides)")
