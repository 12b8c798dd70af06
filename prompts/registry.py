"""Loading, validating and rendering versioned prompt files (see the package docstring).

Security contract: a prompt file may come from a pipeline's ``prompt_dirs``, which anyone who writes a
pipeline controls, so a template is treated as untrusted code. It is rendered in Jinja2's *immutable*
sandbox and only ever sees plain data — dicts, lists, strings, numbers, booleans and None — built for
the render by :func:`template_data`; never a live object (a ``Path``, a pydantic model, a method). A
template that reaches for a private or dunder attribute is rejected when the file is loaded, and one that
trips the sandbox while rendering (or computes a huge value) is a :class:`PromptError`, not a traceback.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field

from core.errors import InputError
from core.files import read_regular_file
from core.yamlio import MAX_YAML_BYTES, load_model

TEMPLATES_DIR = Path(__file__).parent / "templates"
_ID = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
_REF = re.compile(r"^(?P<id>[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*)(@(?P<version>[1-9][0-9]*))?$")
# A JSON key as a template writes out an answer's shape: '"name":'. Neither the name's characters nor the
# spaces can be a quote, so a failed match never re-reads more than the spaces after one quoted word.
_JSON_KEY = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)"[ \t]*:')
# The same, first on its line (after an optional list bullet): a shape written as a list of keys.
_LISTED_KEY = re.compile(r'^[ \t]*(?:[-*][ \t]+)?"([A-Za-z_][A-Za-z0-9_]*)"[ \t]*:', re.MULTILINE)


class PromptError(InputError):
    """An unknown prompt, a malformed prompt file, or a render with missing variables."""


class PromptFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    version: int = Field(ge=1)
    role: str | None = Field(
        None,
        pattern=_ID,
        description="The role this prompt serves (agents.roles: 'reviewer.review', 'copywriter.draft', ...): "
        "what it is given and what it must answer. A pipeline plugs it only into a slot of that role, "
        "checked at load time. Unset: the prompt's id (shipped prompts always set it).",
    )
    description: str
    inputs: list[str]
    template: str
    thread: bool = Field(
        False,
        description="true: a turn in the campaign's conversation. The prompt is sent after the earlier "
        "turns of its thread (the brief, then its channel's drafts, reviews and revisions) and its answer "
        "joins the thread, so it can refer to them ('the draft above') instead of repeating them.",
    )
    passages: bool = Field(
        True,
        description="false: the system message leaves out the campaign's passages (the shared context "
        "prompt rendered with none), for a prompt that carries its own source: copywriter.story, given the "
        "part of the documents it retells, wrote from the other passages instead when they were shown too.",
    )
    needs_context: list[str] = Field(
        default_factory=list,
        description="Shared system prompts (id@version) this prompt is written for: it leaves its standing "
        "instructions and answer shape to them. A pipeline whose context_prompt is not one of them is "
        "rejected at load time. Empty: works with any.",
    )


# The largest value one template operation may build, and the largest prompt a render may produce
# ("{{ 'x' * 10**9 }}" would otherwise allocate a gigabyte before anyone sees the prompt). Shipped
# prompts render to a few thousand characters; a brand's passages add tens of thousands at most.
MAX_RENDER_VALUE = 1_000_000
MAX_RENDER_CHARS = 1_000_000
MAX_RANGE = 10_000  # range() in a template: loops over real data never need more
_WIDTH = re.compile(r"\d{5,}")  # a field width or precision of 10,000 or more in a format string


def _check_size(size: int, what: str) -> None:
    if size > MAX_RENDER_VALUE:
        raise OverflowError(f"{what} of more than {MAX_RENDER_VALUE:,} characters or items")


def _check_format(spec: str) -> None:
    if _WIDTH.search(spec):
        raise OverflowError("a format width of 10,000 or more")


def _bounded_range(*args: int) -> range:
    values = range(*args)
    if len(values) > MAX_RANGE:
        raise OverflowError(f"a range of more than {MAX_RANGE:,} numbers")
    return values


class _PromptSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox (no attribute of a live object, no mutation of lists or dicts, no
    ``namespace`` to accumulate in), with every operation that can amplify a value bounded: ``*``,
    ``**``, ``%`` and ``str.format`` widths, ``range`` and the padding and replacing filters."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("namespace", None)
        self.globals["range"] = _bounded_range
        for name in ("center", "indent", "format", "replace", "wordwrap", "truncate"):
            self.filters[name] = _bounded_filter(self.filters[name], name)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if (isinstance(right, int) and abs(right) > 64) or (isinstance(left, int) and abs(left) > 2**64):
                raise OverflowError("a power too large for a prompt")
            return left**right
        if operator == "%":
            if isinstance(left, str):
                _check_format(left)
            return left % right
        for size, count in ((left, right), (right, left)):
            if isinstance(size, str | list | tuple) and isinstance(count, int):
                _check_size(len(size) * count, "a repeated value")
        return left * right

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None

        def checked(*args: Any, **kwargs: Any) -> str:
            _check_format(value.__self__)
            return str(wrapped(*args, **kwargs))

        return checked


def _bounded_filter(original: Any, name: str) -> Any:
    """``original`` with its result bounded before it is built (padding widths, replacements)."""

    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = [a for a in args if not hasattr(a, "environment")]  # skip the context or environment
        numbers = [
            v for v in (*values[1:], *kwargs.values()) if isinstance(v, int) and not isinstance(v, bool)
        ]
        if any(n > MAX_RENDER_VALUE // 100 for n in numbers):
            raise OverflowError(f"{name}() with a width or count of more than {MAX_RENDER_VALUE // 100:,}")
        if name == "format" and values and isinstance(values[0], str):
            _check_format(values[0])
        if name == "replace" and len(values) >= 3 and all(isinstance(v, str) for v in values[:3]):
            text, old, new = values[:3]
            _check_size(len(text) + (text.count(old) if old else len(text) + 1) * len(new), "a replaced text")
        return original(*args, **kwargs)

    return functools.wraps(original)(bounded)


_ENV = _PromptSandbox(
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
    autoescape=False,
)


def template_data(value: Any, *, where: str = "value") -> Any:
    """``value`` as plain data for a template: pydantic models become dicts of their fields (fields
    marked ``exclude`` such as a brand's folder stay out; a model may list read-only properties in
    ``__template_properties__`` to add them), paths and enums become strings, tuples and sets lists.
    Anything else — a function, a file, an arbitrary object — is a :class:`PromptError`."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, BaseModel):
        data = {
            name: template_data(getattr(value, name), where=f"{where}.{name}")
            for name, info in type(value).model_fields.items()
            if not info.exclude
        }
        for name in getattr(type(value), "__template_properties__", ()):
            data[name] = template_data(getattr(value, name), where=f"{where}.{name}")
        return data
    if isinstance(value, Mapping):
        return {str(k): template_data(v, where=f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [template_data(v, where=f"{where}[{n}]") for n, v in enumerate(items)]
    if isinstance(value, Enum):
        return template_data(value.value, where=where)
    if isinstance(value, Path):
        return str(value)
    raise PromptError(
        f"{where} is a {type(value).__name__}; prompts are given plain data only (text, numbers, lists, "
        "mappings, pydantic models)"
    )


def _private_access(tree: nodes.Template) -> str | None:
    """The first private or dunder name a template reaches for: ``x._y``, ``x['_y']``, ``attr('_y')``,
    ``map(attribute='_y')`` and the like, or any string constant holding ``__`` (``'__cla' ~ 'ss__'``)."""
    for node in tree.find_all(
        (nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Test, nodes.Call, nodes.Const)
    ):
        names: list[Any] = []
        if isinstance(node, nodes.Getattr):
            names.append(node.attr)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            names.append(node.arg.value)
        elif isinstance(node, nodes.Filter | nodes.Test | nodes.Call):
            by_name = getattr(node, "name", None) in ("attr", "selectattr", "rejectattr")
            if by_name and node.args and isinstance(node.args[0], nodes.Const):
                names.append(node.args[0].value)
            names += [kw.value.value for kw in node.kwargs if isinstance(kw.value, nodes.Const)]
        elif isinstance(node, nodes.Const) and isinstance(node.value, str) and "__" in node.value:
            names.append(node.value)
        for name in names:
            if isinstance(name, str) and (name.startswith("_") or "__" in name):
                return name
    return None


@dataclass(frozen=True)
class Prompt:
    """One prompt version, parsed and checked."""

    id: str
    version: int
    description: str
    inputs: tuple[str, ...]
    source: str
    hash: str
    path: Path
    thread: bool = False
    needs_context: tuple[str, ...] = ()
    role: str = ""
    json_keys: tuple[str, ...] = ()
    passages: bool = True

    def __post_init__(self) -> None:
        if not self.role:  # a file that names no role serves the one its id names
            object.__setattr__(self, "role", self.id)

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @functools.cached_property
    def _template(self) -> Any:
        return _ENV.from_string(self.source)

    def render(self, **variables: Any) -> str:
        """Render with exactly the declared inputs; anything missing or undefined is a PromptError."""
        missing = [name for name in self.inputs if name not in variables]
        if missing:
            raise PromptError(
                f"missing variables {missing} (declared inputs: {list(self.inputs)})", source=self.ref
            )
        # Only the declared inputs reach the template (they are exactly its free variables): a caller may
        # pass everything its role provides, whichever of it this version uses.
        data = {name: template_data(variables[name], where=name) for name in self.inputs}
        parts: list[str] = []
        size = 0
        try:
            for part in self._template.generate(**data):
                size += len(part)
                if size > MAX_RENDER_CHARS:
                    raise OverflowError(f"the prompt grew past {MAX_RENDER_CHARS:,} characters")
                parts.append(part)
        except UndefinedError as exc:
            raise PromptError(f"undefined value while rendering: {exc.message}", source=self.ref) from None
        except PromptError:
            raise
        except Exception as exc:  # the template is untrusted code: whatever it trips is its error
            # SecurityError (a sandbox refusal) is a TemplateError; the bounds above raise OverflowError.
            raise PromptError(
                f"the template was refused while rendering ({type(exc).__name__}: {str(exc)[:200]})",
                source=self.ref,
            ) from None
        return "".join(parts).strip() + "\n"


def _parse(path: Path) -> Prompt:
    spec = load_model(path, PromptFile)
    expected_name = f"{spec.id}@{spec.version}.yaml"
    if path.name != expected_name:
        raise PromptError(
            f"file name must be {expected_name!r} for id {spec.id!r} version {spec.version}", source=path
        )
    try:
        tree = _ENV.parse(spec.template)
    except TemplateSyntaxError as exc:
        raise PromptError(
            f"template syntax error at line {exc.lineno}: {exc.message}", source=path, field="template"
        ) from None
    private = _private_access(tree)
    if private is not None:
        raise PromptError(
            f"the template reaches for {private!r}; templates may only use the data they are given "
            "(names starting with '_' are never available)",
            source=path,
            field="template",
        )
    free = meta.find_undeclared_variables(tree)
    undeclared, unused = sorted(free - set(spec.inputs)), sorted(set(spec.inputs) - free)
    if undeclared or unused:
        raise PromptError(
            f"inputs do not match the template: used but not declared {undeclared}, declared but "
            f"not used {unused}",
            source=path,
            field="inputs",
        )
    for n, ref in enumerate(spec.needs_context):
        if not (match := _REF.match(ref)) or match["version"] is None:
            raise PromptError(
                f"{ref!r} is not a prompt reference with a version, such as 'context.system@2'",
                source=path,
                field=f"needs_context[{n}]",
            )
    digest = hashlib.sha256(read_regular_file(path, MAX_YAML_BYTES, what="prompt file")).hexdigest()[:12]
    return Prompt(
        spec.id,
        spec.version,
        spec.description,
        tuple(spec.inputs),
        spec.template,
        digest,
        path,
        spec.thread,
        tuple(spec.needs_context),
        spec.role or spec.id,
        _json_keys(tree),
        spec.passages,
    )


def _json_keys(tree: nodes.Template) -> tuple[str, ...]:
    """The JSON keys the template's own text writes out, in order of first appearance: the answer shape
    a prompt states by hand, which a pipeline checks against its role's answer model. A key counts inside
    braces ('{"scores": ...}') or first on its line ('- "tone": ...'); a quoted word followed by a colon
    in the middle of prose ('a headline such as "Fresh": short') is not a shape."""
    text = "".join(node.data for node in tree.find_all(nodes.TemplateData))
    found = [(m.start(), m[1]) for m in _JSON_KEY.finditer(_inside_braces(text))]
    found += [(m.start(1), m[1]) for m in _LISTED_KEY.finditer(text)]
    return tuple(dict.fromkeys(key for _, key in sorted(found)))


def _inside_braces(text: str) -> str:
    """The characters of ``text`` that lie inside ``{...}`` (at any depth), other text replaced by line
    breaks so no key pattern can join across it. One pass, linear."""
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        out.append(ch if depth > 0 or ch == "}" else "\n")
    return "".join(out)


class PromptRegistry:
    """All prompt versions found in one or more folders (later folders may add versions, not replace)."""

    def __init__(self, *folders: Path) -> None:
        self._prompts: dict[str, dict[int, Prompt]] = {}
        for folder in folders or (TEMPLATES_DIR,):
            for path in sorted(Path(folder).glob("*.yaml")):
                prompt = _parse(path)
                versions = self._prompts.setdefault(prompt.id, {})
                if prompt.version in versions:
                    raise PromptError(
                        f"{prompt.ref} is defined twice ({versions[prompt.version].path})", source=path
                    )
                versions[prompt.version] = prompt

    def ids(self) -> list[str]:
        return sorted(self._prompts)

    def refs(self) -> list[str]:
        return [p.ref for pid in self.ids() for p in self.versions(pid)]

    def versions(self, prompt_id: str) -> list[Prompt]:
        return [self._prompts[prompt_id][v] for v in sorted(self._prompts.get(prompt_id, {}))]

    def serving(self, role: str) -> list[Prompt]:
        """Every version, of any id, that names ``role`` as the role it serves (by id, then version)."""
        return [p for pid in self.ids() for p in self.versions(pid) if p.role == role]

    def get(self, ref: str) -> Prompt:
        """``id@version`` exactly, or ``id`` for its latest version."""
        match = _REF.match(ref.strip())
        if not match:
            raise PromptError(
                f"malformed prompt reference {ref!r}; expected 'id@version' such as 'copywriter.draft@1'"
            )
        versions = self._prompts.get(match["id"])
        if not versions:
            raise PromptError(f"unknown prompt {match['id']!r}; valid choices: {self.ids()}")
        if match["version"] is None:
            return versions[max(versions)]
        version = int(match["version"])
        if version not in versions:
            raise PromptError(
                f"unknown version {ref!r}; valid choices: {[p.ref for p in self.versions(match['id'])]}"
            )
        return versions[version]


@functools.lru_cache(maxsize=1)
def default_registry() -> PromptRegistry:
    """The prompts shipped with BrandForge (loaded once per process)."""
    return PromptRegistry(TEMPLATES_DIR)
