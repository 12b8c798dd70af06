"""Safe YAML loading into validated pydantic models, and path confinement.

Contract: YAML is only ever read with ``yaml.safe_load`` (a ``!!python/...`` tag is an InputError, not
code execution); every model is validated with ``extra="forbid"``; a path taken from config is resolved
inside its root or rejected. All failures are :class:`~knowledge.errors.InputError` naming the file.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from knowledge.errors import InputError, format_validation_error

M = TypeVar("M", bound=BaseModel)


def load_yaml(path: Path) -> Any:
    """Read one YAML file with ``safe_load``; any read or syntax problem is an InputError. The parse of
    an unchanged file is reused within the process (the caller gets its own copy)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", source=path) from None
    except IsADirectoryError:
        raise InputError("expected a YAML file, found a directory", source=path) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; expected a YAML file", source=path) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=path) from None
    key = (str(path), text)
    with _parsed_lock:
        if key in _parsed:
            return copy.deepcopy(_parsed[key])
    try:
        data = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        raise InputError(
            f"unsupported YAML tag {exc.problem.split()[-1] if exc.problem else ''} "
            f"({exc.problem_mark}); only plain YAML data is accepted",
            source=path,
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}", source=path) from None
    with _parsed_lock:
        if len(_parsed) >= 256:
            _parsed.pop(next(iter(_parsed)))
        _parsed[key] = data
    return copy.deepcopy(data)


# Files parsed by this process, by (path, exact text): pure-Python YAML parsing costs ~10 ms per file
# and a batch or eval run reads the same pipeline, channel and brand files for every campaign.
_parsed: dict[tuple[str, str], Any] = {}
_parsed_lock = threading.Lock()


def validate_model(data: Any, model: type[M], source: str | Path) -> M:
    """Validate already-loaded data into ``model``; errors name every bad field."""
    if not isinstance(data, dict):
        raise InputError(f"expected a mapping of fields, got {type(data).__name__}", source=source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(exc, source) from None


def load_model(path: Path, model: type[M]) -> M:
    """Load a YAML file and validate it as ``model``."""
    return validate_model(load_yaml(path), model, path)


_cache: dict[tuple[str, int, int, type], BaseModel] = {}


def load_model_cached(path: Path, model: type[M]) -> M:
    """:func:`load_model`, parsed once per process while the file is unchanged (mtime and size).
    For read-only data such as channel specs and rule packs; callers must not mutate the result."""
    try:
        stat = path.stat()
    except OSError:
        return load_model(path, model)
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, model)
    if key not in _cache:
        _cache[key] = load_model(path, model)
    return _cache[key]  # type: ignore[return-value]


def confined_path(root: Path, relative: str | Path, *, source: str | Path, field: str) -> Path:
    """Resolve ``relative`` under ``root``; reject absolute paths and anything escaping the root."""
    root = root.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root):
        raise InputError(
            f"path {str(relative)!r} escapes its root {str(root)!r}; expected a path inside it",
            source=source,
            field=field,
        )
    return candidate
