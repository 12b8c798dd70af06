"""A prompt template is untrusted code: it gets plain data, an immutable sandbox, and nothing else.

Finding (issue 16, high): a template in a pipeline's ``prompt_dirs`` could call methods of the live
objects it was given — ``{{ brand.root.joinpath('/etc/hostname').read_text() }}`` read any file and
``.write_text(...)`` wrote one. Every payload below is rendered with the variables a real campaign passes
(a loaded Brand, channel specs, passages, a brief, a draft); none may reach a file, mutate the data, or
end in anything but a :class:`PromptError`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agents.channels import load_channels
from agents.state import CreativeBrief, Draft, KeyMessage, RetrievedPassage
from knowledge.brand import load_brand
from prompts import PromptError, PromptRegistry, default_registry
from prompts.registry import template_data
from tests.conftest import MINI_BRAND, MINI_DOCS, write_brand

pytestmark = [pytest.mark.unit, pytest.mark.security]

SECRET = "top-secret-7f3a"

# Payloads the load-time check rejects: they name private or dunder attributes outright.
STATIC_ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ brand.__class__ }}",
    "{{ brand|attr('__class__') }}",
    "{{ brand['__class__'] }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].listdir('/') }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{% for c in ().__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ brand._private }}",
    "{% set k = '__cla' ~ 'ss__' %}{{ brand|attr(k) }}",
    "{{ '{0.__class__}'.format(brand) }}",
    "{{ passages|map(attribute='__class__')|list }}",
    "{{ passages|selectattr('_x')|list }}",
]

# Payloads that parse cleanly and must fail (or do nothing) when rendered.
RENDER_ESCAPES = [
    "{{ brand.root.joinpath('SECRET_PATH').read_text() }}",
    "{{ brand.root }}",
    "{{ brand.knowledge_path }}",
    "{{ brand.model_copy(update={'name': 'x'}) }}",
    "{{ channel.fields[0].violations('x') }}",
    "{{ brief.model_dump_json() }}",
    "{{ passages.append(1) }}",
    "{{ brand.update({'name': 'x'}) }}",
    "{{ brand.voice.do.pop() }}",
    "{{ brand|attr(['_', '_class_', '_']|join) }}",
    "{{ 'x' * 10**9 }}",
    "{{ [1] * 10**8 }}",
    "{{ 9**9**9 }}",
    "{{ range(10**9)|list|length }}",
    "{{ brand.name.format_map(brand) }}",
    "{{ ('x' * 1000)|replace('x', 'y' * 1000000) }}",
    "{{ '%0900000000d' % 1 }}",
    "{{ '%0900000000d'|format(1) }}",
    "{{ '{:>900000000}'.format(1) }}",
    "{{ 'x'|center(2000000000) }}",
    "{{ 'x'|indent(10**9) }}",
    "{{ ((((10**64)**64)**64)**64) }}",
    "{{ (10**64)**64 * (10**64)**64 }}",
    "{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}",
]


@pytest.fixture
def variables(tmp_path: Path) -> dict[str, Any]:
    root = write_brand(tmp_path / "brand", MINI_BRAND, MINI_DOCS)
    (root / "secret.txt").write_text(SECRET, encoding="utf-8")
    channels = load_channels()
    passage = RetrievedPassage(
        id="knowledge/roasting.md#0", alias="P1", doc="knowledge/roasting.md", text="t", score=1
    )
    brief = CreativeBrief(
        audience_insight="a", key_messages=[KeyMessage(text="m", citations=["P1"])], tone="warm"
    )
    return {
        "brand": load_brand(root),
        "channel": channels["search_ad"],
        "channels": [channels["search_ad"]],
        "passages": [passage],
        "brief": brief,
        "draft": Draft(channel="search_ad", fields={"headline_1": "h"}, citations=["P1"]),
    }


def _prompt_file(folder: Path, template: str, inputs: list[str]) -> Path:
    folder.mkdir(exist_ok=True)
    body = (
        f"id: evil.t\nversion: 1\ndescription: d\ninputs: [{', '.join(inputs)}]\ntemplate: |\n  {template}\n"
    )
    (folder / "evil.t@1.yaml").write_text(body, encoding="utf-8")
    return folder


def _used_inputs(template: str, variables: dict[str, Any]) -> list[str]:
    return [name for name in variables if name in template]


@pytest.mark.parametrize("payload", STATIC_ESCAPES)
def test_private_attribute_access_is_rejected_at_load(payload: str, tmp_path: Path) -> None:
    inputs = [name for name in ("brand", "passages") if name in payload]
    folder = _prompt_file(tmp_path / "p", payload, inputs)
    with pytest.raises(PromptError, match=r"evil\.t@1\.yaml: template: the template reaches for '[^']*_"):
        PromptRegistry(folder)


def test_no_namespace_to_accumulate_in(tmp_path: Path) -> None:
    """``namespace()`` is the one mutable object Jinja2 offers; templates do without it."""
    folder = _prompt_file(tmp_path / "p", "{% set ns = namespace(x='') %}{{ ns.x }}", [])
    with pytest.raises(PromptError, match=r"used but not declared \['namespace'\]"):
        PromptRegistry(folder)


@pytest.mark.parametrize("payload", RENDER_ESCAPES)
def test_render_escape_payloads_reach_nothing(
    payload: str, variables: dict[str, Any], tmp_path: Path
) -> None:
    root = variables["brand"].root
    payload = payload.replace("SECRET_PATH", str(root / "secret.txt"))
    folder = _prompt_file(tmp_path / "p", payload, _used_inputs(payload, variables))
    prompt = PromptRegistry(folder).get("evil.t@1")
    before = sorted(p.name for p in root.rglob("*"))
    kwargs = {name: variables[name] for name in prompt.inputs}
    try:
        text = prompt.render(**kwargs)
    except PromptError as exc:  # refused: the message says so, no traceback
        assert "evil.t@1" in str(exc)
    else:  # rendered: then only with plain text, never a file's content or a live object
        assert SECRET not in text
        assert "PosixPath" not in text and "object at 0x" not in text
    assert sorted(p.name for p in root.rglob("*")) == before
    assert variables["brand"].voice.do == ["use concrete facts"]  # nothing was mutated
    assert len(variables["passages"]) == 1


def test_template_data_is_plain(variables: dict[str, Any]) -> None:
    def plain(value: Any) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, str | int | float | bool)

    for name, value in variables.items():
        data = template_data(value, where=name)
        assert plain(data), name
    brand = template_data(variables["brand"])
    assert "root" not in brand  # the brand's folder is never given to a template
    assert template_data(variables["channel"])["fields"][0]["limits_text"].startswith("at most")


def test_a_live_object_is_refused_with_its_name() -> None:
    prompt = default_registry().get("compliance.claims@1")
    with pytest.raises(PromptError, match=r"sentences\[0\] is a function; prompts are given plain data"):
        prompt.render(sentences=[lambda: None])


def test_shipped_prompts_render_the_same_from_plain_data(variables: dict[str, Any]) -> None:
    """The conversion changes nothing a shipped prompt shows (the snapshots in test_prompts pin the text)."""
    prompt = default_registry().get("context.system@2")
    text = prompt.render(brand=variables["brand"], language_name="English", passages=variables["passages"])
    assert "Name (always spelled exactly): Tidewater" in text
    assert '<passage id="P1" source="knowledge/roasting.md">t</passage>' in text


def test_escape_through_a_pipeline_fails_at_load_with_exit_2(tmp_path: Path) -> None:
    """From the command line: a pipeline whose prompt_dirs hold an escaping template stops before any
    model call, with a message naming the file, and no traceback."""
    brand = write_brand(tmp_path / "brand", MINI_BRAND, MINI_DOCS)
    _prompt_file(tmp_path / "prompts", "{{ brand.__class__.__init__.__globals__ }}", ["brand"])
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "name: evil\nbackend: {kind: fake}\nprompt_dirs: [prompts]\nsteps:\n  - agent: retriever\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "campaign", str(brand), "--pipeline", str(pipeline), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BRANDFORGE_BACKEND": "fake"},
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "evil.t@1.yaml: template: the template reaches for '__" in result.stderr
