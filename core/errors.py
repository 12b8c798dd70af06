"""Errors for bad user input, shared by every BrandForge package.

Contract: anything a user wrote (brand.yaml, a knowledge document, a pipeline or channel YAML, a CLI
flag) that cannot be used raises :class:`InputError`. Its message names the file, the field and what
was expected, so the CLI can print it as-is and exit with status 2 — never a traceback.
"""

from __future__ import annotations

import reprlib
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import ValidationError


class InputError(ValueError):
    """User input that cannot be used: says where (file, field) and what was expected."""

    def __init__(self, message: str, *, source: str | Path | None = None, field: str | None = None) -> None:
        self.source = str(source) if source is not None else None
        self.field = field
        where = ": ".join(part for part in (self.source, field) if part)
        super().__init__(f"{where}: {message}" if where else message)


class ServiceError(RuntimeError):
    """A model or service BrandForge calls failed (unreachable, refused, crashed): not the input's fault.
    Before any work the CLI reports it as a configuration problem (exit 2); during a campaign the work done
    is kept and the campaign comes back incomplete (exit 4). :class:`backends.BackendError` is one."""


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class _BoundedRepr(reprlib.Repr):
    """``repr`` that never builds more than a few dozen characters, whatever the value: strings and
    containers are cut before they are formatted (``f"{value!r:.80}"`` formats all of it first)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 2
        self.maxstring = self.maxother = 60
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdeque = 4
        self.maxdict = 3

    def repr_int(self, x: int, level: int) -> str:
        # repr() of a huge int is slow (and beyond 4,300 digits a ValueError): say its size instead.
        if abs(x) >= 10**30:
            return f"<integer of about {int(x.bit_length() * 0.30103) + 1} digits>"
        return repr(x)

    def repr_bytes(self, x: bytes, level: int) -> str:
        return repr(x[: self.maxstring]) + ("..." if len(x) > self.maxstring else "")

    def repr_dict(self, x: dict[Any, Any], level: int) -> str:
        # reprlib sorts every key first; a user-written mapping can be huge, so keep its own order.
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        items = [
            f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}"
            for k, v in islice(x.items(), self.maxdict)
        ]
        return "{" + ", ".join(items) + (", ...}" if len(x) > self.maxdict else "}")


_bounded = _BoundedRepr()
MAX_GOT_CHARS = 80


def bounded_repr(value: Any, limit: int = MAX_GOT_CHARS) -> str:
    """A repr of ``value`` of at most ``limit`` characters, built in time bounded by ``limit`` too."""
    text = _bounded.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_validation_error(err: ValidationError, source: str | Path | None = None) -> InputError:
    """Turn a pydantic ValidationError into one InputError listing every bad field."""
    lines = []
    for item in err.errors(include_url=False):
        field = _field_path(tuple(item["loc"]))
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            msg = "unknown field (remove it or check its spelling)"
        got = item.get("input")
        got_text = "" if item["type"] in ("missing", "extra_forbidden") else f" (got {bounded_repr(got)})"
        lines.append(f"{field}: {msg}{got_text}")
    error = InputError("invalid configuration:\n  " + "\n  ".join(lines), source=source)
    errors = err.errors(include_url=False)
    if errors:  # the first bad field, for callers that point at one (the service's 422 answers)
        error.field = _field_path(tuple(errors[0]["loc"]))
    return error
