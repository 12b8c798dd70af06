"""JSON-schema building blocks for model answers, and the answer shape prompts may show.

Contract: the JSON schema sent to a backend's constrained decoding is always generated from a pydantic
model (:func:`json_schema_of`, self-contained: ``$ref`` resolved, ``title`` annotations dropped). Models
whose constraints depend on the campaign (passage aliases, channel fields) are built at run time from the
small type helpers here (:func:`one_of`, :func:`list_of`, :func:`text_field`); :mod:`agents.roles` says
which model each role answers with. :func:`answer_shape` writes a model's schema as the one-line example a
prompt can show the model ("Return JSON: {...}"), so a template never hand-writes a shape that could
drift from the schema. Imports nothing else from :mod:`agents`.
"""

from __future__ import annotations

import copy
import json
import threading
import weakref
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


def one_of(values: Sequence[Any]) -> Any:
    """``Literal[*values]``: a type whose JSON schema is an enum, for schemas built at run time."""
    return Literal[tuple(values)]  # type: ignore[valid-type]


def list_of(item: Any, *, min_items: int = 0, max_items: int | None = None) -> Any:
    """``list[item]`` with item-count bounds (``minItems`` / ``maxItems`` in the schema)."""
    return Annotated[list[item], Field(min_length=min_items, max_length=max_items)]  # type: ignore[valid-type]


def text_field(max_chars: int | None = None, min_chars: int = 1) -> Any:
    """A string with length bounds (``minLength`` / ``maxLength``)."""
    return Annotated[str, Field(min_length=min_chars, max_length=max_chars)]


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve ``$ref``s into a self-contained schema (every backend's grammar compiler accepts it)."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            # "title" annotations are noise to a grammar; a *property* named title is a dict and stays.
            return {
                k: resolve(v)
                for k, v in node.items()
                if k != "$defs" and not (k == "title" and isinstance(v, str))
            }
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


_schemas: weakref.WeakKeyDictionary[type[BaseModel], dict[str, Any]] = weakref.WeakKeyDictionary()
_schemas_lock = threading.Lock()


def json_schema_of(output: type[BaseModel]) -> dict[str, Any]:
    """``output``'s self-contained JSON schema, generated once per model class (pydantic's schema
    generation costs about 2 ms, every model call asks for it). Callers get their own copy."""
    with _schemas_lock:
        schema = _schemas.get(output)
        if schema is None:
            schema = _schemas[output] = inline_refs(output.model_json_schema())
    return copy.deepcopy(schema)


def answer_shape(schema: dict[str, Any]) -> str:
    """A self-contained schema (:func:`json_schema_of`) as the example a prompt shows the model:
    ``{"citations": ["P1", ...], "fields": {"headline": "..."}}``. Strings are ``"..."`` (an enum's
    first value, or the constant, when it has one), arrays one item then ``...`` (``[]`` when they must
    stay empty), integers their range (``1-5``), booleans ``true``. Keys keep the schema's order, which
    is the order constrained decoding writes them in."""
    return _shape(schema)


def _shape(node: dict[str, Any]) -> str:
    if "anyOf" in node:  # an optional value: show the value, not null
        options = [n for n in node["anyOf"] if n.get("type") != "null"]
        return _shape(options[0]) if options else "null"
    kind = node.get("type")
    if kind == "object":
        properties = node.get("properties", {})
        return "{" + ", ".join(f"{_json(name)}: {_shape(sub)}" for name, sub in properties.items()) + "}"
    if kind == "array":
        if node.get("maxItems") == 0:
            return "[]"
        return f"[{_shape(node.get('items', {}))}, ...]"
    if "const" in node:  # pydantic writes a one-value Literal as a const
        return _json(node["const"])
    if "enum" in node and kind != "integer":
        return _json(node["enum"][0])
    if kind == "string":
        return '"..."'
    if kind == "boolean":
        return "true"
    if kind in ("integer", "number"):
        values = node.get("enum")
        low = min(values) if values else node.get("minimum")
        high = max(values) if values else node.get("maximum")
        return f"{low}-{high}" if low is not None and high is not None else "n"
    return "..."


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
