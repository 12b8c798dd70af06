"""Safe YAML loading into validated pydantic models, and path confinement.

Contract: YAML is only ever read through :func:`load_yaml`, with PyYAML's safe loader (a
``!!python/...`` tag is an InputError, not code execution) and within limits that keep a small file
from costing much: at most :data:`MAX_YAML_BYTES` bytes of a regular file (never a FIFO or device), at
most :data:`MAX_YAML_DEPTH` levels of nesting, at most :data:`MAX_YAML_ALIASES` alias uses (``*name``),
no alias to a node that contains it, and at most :data:`MAX_YAML_NODES` nodes once every alias is
expanded (what validation and error messages would walk: a 459-byte "billion laughs" file is 10^9).
Every model is validated with ``extra="forbid"``; a path taken from config is resolved inside its root
or rejected. All failures are :class:`~core.errors.InputError` naming the file and, for a limit,
the limit.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from core.errors import InputError, format_validation_error
from core.files import read_regular_file

M = TypeVar("M", bound=BaseModel)

# Every YAML file of the project (brand, pipeline, channel, rule pack, prompt, eval suite) is
# hand-written configuration: the largest shipped one is 58 KB and 3,800 values, with a few aliases.
# Pure-Python PyYAML reads about 20k values or 0.5 MB a second, so a file at the limits costs a few
# seconds at most.
MAX_YAML_BYTES = 1024 * 1024
MAX_YAML_DEPTH = 50
MAX_YAML_ALIASES = 1_000
MAX_YAML_NODES = 50_000


class _YamlLimitError(Exception):
    def __init__(self, message: str, mark: yaml.Mark | None) -> None:
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        super().__init__(f"{message}{where}")


class _LimitedSafeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, counting while it composes the node graph (before anything is built):
    nesting depth, alias uses, and the number of values with aliases expanded — each node's expanded
    size is memoised, so counting is linear in the file even when the expansion is exponential, and the
    running total stops a long file as soon as it passes the limit, not when its list closes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._total = 0  # values so far, each alias counted as everything it stands for
        self._expanded: dict[int, int] = {}  # id(node) -> nodes under it, aliases expanded

    def _count(self, n: int, mark: yaml.Mark | None) -> None:
        self._total += n
        if self._total > MAX_YAML_NODES:
            raise _YamlLimitError(
                f"more than {MAX_YAML_NODES:,} values (aliases expanded; an alias bomb?)", mark
            )

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise _YamlLimitError(f"more than {MAX_YAML_ALIASES:,} alias uses (*name)", mark)
            node = super().compose_node(parent, index)
            if id(node) not in self._expanded:  # the anchored node is still open: it contains this alias
                raise _YamlLimitError("alias refers to a node that contains it (a cycle)", mark)
            self._count(self._expanded[id(node)], mark)
            return node
        self._depth += 1
        try:
            mark = self.peek_event().start_mark
            if self._depth > MAX_YAML_DEPTH:
                raise _YamlLimitError(f"nested deeper than {MAX_YAML_DEPTH} levels", mark)
            self._count(1, mark)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._expanded[id(child)] for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(self._expanded[id(k)] + self._expanded[id(v)] for k, v in node.value)
        self._expanded[id(node)] = size  # every node stays referenced by the tree until loading ends
        return node


def load_yaml(path: Path) -> Any:
    """Read one YAML file with the safe loader, within the limits above; any read, syntax or limit
    problem is an InputError. The parse of an unchanged file is reused within the process (the caller
    gets its own copy)."""
    raw = read_regular_file(path, MAX_YAML_BYTES, what="YAML file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); expected a YAML file", source=path) from None
    key = (str(path), text)
    with _parsed_lock:
        if key in _parsed:
            return copy.deepcopy(_parsed[key])
    try:
        data = yaml.load(text, Loader=_LimitedSafeLoader)  # a SafeLoader subclass: no Python tags
    except _YamlLimitError as exc:
        raise InputError(f"YAML over the limits: {exc}", source=path) from None
    except yaml.constructor.ConstructorError as exc:
        problem = exc.problem or ""
        what = (
            f"unsupported YAML tag {problem.split()[-1]}" if "tag" in problem else f"invalid YAML: {problem}"
        )
        raise InputError(
            f"{what} ({exc.problem_mark}); only plain YAML data is accepted", source=path
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}", source=path) from None
    except ValueError as exc:
        # int() of a scalar with more digits than Python converts (sys.get_int_max_str_digits)
        raise InputError(f"invalid YAML value: {str(exc)[:200]}", source=path) from None
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
