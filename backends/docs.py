"""Writes ``docs/backends.md`` from the backend registry: ``python -m backends.docs`` (``--check`` to only
compare). The page is generated, never edited by hand: every kind with its description, and every config
field with its type, default, range and description, read from the config models themselves, so the page
cannot drift from the code (``tests/test_backend_registry.py`` fails when the committed page is stale).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from backends.base import BaseBackendConfig
from backends.registry import DEFAULT_KIND, ENV_OVERRIDES, REGISTRY

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "backends.md"
REGENERATE = ".venv/bin/python -m backends.docs"


def _md(text: str) -> str:
    """Text for a Markdown table cell: no column breaks, no accidental HTML tags."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _type(prop: dict[str, Any]) -> str:
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    if "anyOf" in prop:
        return " \\| ".join(_type(p) for p in prop["anyOf"])
    return str(prop.get("type", "any"))


def _range(prop: dict[str, Any]) -> str:
    options = prop.get("anyOf", [prop])
    for option in options:
        low = (
            f"≥ {option['minimum']}"
            if "minimum" in option
            else f"> {option['exclusiveMinimum']}"
            if "exclusiveMinimum" in option
            else ""
        )
        high = (
            f"≤ {option['maximum']}"
            if "maximum" in option
            else f"< {option['exclusiveMaximum']}"
            if "exclusiveMaximum" in option
            else ""
        )
        if low or high:
            return ", ".join(part for part in (low, high) if part)
    return ""


def _rows(model: type[BaseBackendConfig], names: list[str]) -> list[str]:
    props = model.model_json_schema()["properties"]
    rows = ["| field | type | default | range | description |", "|---|---|---|---|---|"]
    for name in names:
        prop = props[name]
        default = f"`{json.dumps(prop['default'])}`" if "default" in prop else "required"
        description = _md(prop.get("description", ""))
        rows.append(f"| `{name}` | {_type(prop)} | {default} | {_range(prop)} | {description} |")
    return rows


def render() -> str:
    """The whole page, as committed."""
    common = [name for name in BaseBackendConfig.model_fields if name != "kind"]
    env = ", ".join(f"`{var}` ({field})" for var, field in ENV_OVERRIDES.items())
    lines = [
        "# LLM backends",
        "",
        f"<!-- Generated from backends/ by `{REGENERATE}`; do not edit by hand. -->",
        "",
        "A pipeline's `backend:` section picks one backend by `kind` and sets that backend's fields; a field",
        "of another backend, or an unknown one, is refused when the pipeline loads. Without `kind` the",
        f"backend is `{DEFAULT_KIND}`. On top of the pipeline's section come the env vars {env}, and then",
        "the CLI flags (`--backend`, `--model`, `--base-url`) or `run_campaign(backend=...)`. When one of",
        "those changes the kind, the fields written for the previous kind that the new one does not accept",
        "are dropped (and `model`); a field it sets itself that the kind does not accept is an error.",
        "",
        "| kind | what it is |",
        "|---|---|",
        *(f"| [`{kind}`](#{kind}) | {_md(entry.description)} |" for kind, entry in REGISTRY.items()),
        "",
        "## Settings of every backend",
        "",
        "The sampling fields are the defaults of each call (an agent may override `max_tokens`); they do not",
        "identify a loaded model, so backends that differ only in them are one shared backend.",
        "",
        *_rows(BaseBackendConfig, common),
    ]
    for kind, entry in REGISTRY.items():
        own = [name for name in entry.config.model_fields if name not in BaseBackendConfig.model_fields]
        lines += [
            "",
            f"## {kind}",
            "",
            f"{_md(entry.description)} Config model: `{entry.config.__module__}.{entry.config.__name__}`.",
            "",
            *_rows(entry.config, own),
        ]
    lines += [
        "",
        "## Adding a backend",
        "",
        "Write one module in `backends/` with a config model (subclass of `BaseBackendConfig`,",
        '`kind: Literal["<kind>"] = "<kind>"`, `extra="forbid"`), an `LLMBackend` subclass that loads',
        "nothing before `warm_up()` and imports its heavy dependencies there, and at module level",
        '`BACKEND = BackendRegistration(Config, Backend, "description")`. The registry finds it; the CLI',
        f"choices, the pipeline schema, cache keys and this page follow (`{REGENERATE}`).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed page is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.is_file() else ""
        if current != text:
            print(f"{DOC_PATH} is out of date; regenerate it with: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
