"""Errors for bad user input, shared by every BrandForge package.

Contract: anything a user wrote (brand.yaml, a knowledge document, a pipeline or channel YAML, a CLI
flag) that cannot be used raises :class:`InputError`. Its message names the file, the field and what
was expected, so the CLI can print it as-is and exit with status 2 — never a traceback.
"""

from __future__ import annotations

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


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def format_validation_error(err: ValidationError, source: str | Path | None = None) -> InputError:
    """Turn a pydantic ValidationError into one InputError listing every bad field."""
    lines = []
    for item in err.errors(include_url=False):
        field = _field_path(tuple(item["loc"]))
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            msg = "unknown field (remove it or check its spelling)"
        got = item.get("input")
        got_text = "" if item["type"] in ("missing", "extra_forbidden") else f" (got {got!r:.80})"
        lines.append(f"{field}: {msg}{got_text}")
    return InputError("invalid configuration:\n  " + "\n  ".join(lines), source=source)
