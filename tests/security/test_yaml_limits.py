"""YAML limits (issue 16): alias bombs, nesting depth, file size, non-regular files, huge scalars, and
error messages that never echo a huge value.

Before: a 459-byte brand.yaml of nested aliases took 46 s and 3 GB before exit 2 and printed the
expanded value; nesting 1,000 deep ended in a RecursionError traceback. Every YAML file of the project
goes through :func:`core.yamlio.load_yaml`, so each kind of file is probed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from agents.channels import ChannelSpec
from core.errors import bounded_repr, format_validation_error
from core.yamlio import (
    MAX_YAML_ALIASES,
    MAX_YAML_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    load_model,
    load_yaml,
)
from knowledge.brand import load_brand
from pipelines.evals.spec import EvalSuite
from pipelines.spec import PipelineSpec
from policy.rules import RulePack
from prompts.registry import PromptFile
from tests.conftest import MINI_BRAND, MINI_DOCS, write_brand
from tests.security.test_input_limits import run_bounded

pytestmark = [pytest.mark.unit, pytest.mark.security]

# The probe: 9 lists of 9 aliases to the previous list, 9^9 = 387,420,489 values expanded.
BOMB = "\n".join(
    [f"a0: &a0 [{','.join(['lol'] * 9)}]"]
    + [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    + ["name: *a8"]
)


def _as_brand(path: Path) -> Any:
    return load_brand(path.parent)


def _model_loader(model: type[BaseModel]) -> Callable[[Path], Any]:
    def load(path: Path) -> Any:
        return load_model(path, model)

    load.__name__ = f"load_{model.__name__}"
    return load


LOADERS = {
    "brand": _as_brand,
    "pipeline": _model_loader(PipelineSpec),
    "channel": _model_loader(ChannelSpec),
    "rule-pack": _model_loader(RulePack),
    "prompt": _model_loader(PromptFile),
    "eval-suite": _model_loader(EvalSuite),
}


def _write(tmp_path: Path, text: str) -> Path:
    # brand.yaml in a brand folder, so the same file also serves load_brand
    root = write_brand(tmp_path / "b", MINI_BRAND, MINI_DOCS)
    (root / "brand.yaml").write_text(text)
    return root / "brand.yaml"


def _refused(tmp_path: Path, loader: Callable[[Path], Any], text: str) -> str:
    kind, message, seconds = run_bounded(loader, _write(tmp_path, text), memory_mib=1024)
    assert kind == "InputError", f"expected an InputError, got {kind}: {str(message)[:300]}"
    assert "brand.yaml" in message and len(message) < 400, message[:400]  # names the file, echoes nothing big
    assert seconds < 10
    return str(message)


def test_the_probe_is_small() -> None:
    assert len(BOMB.encode()) < 460  # the was 459 bytes


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_alias_bomb_is_refused_quickly_for_every_kind_of_yaml(tmp_path: Path, kind: str) -> None:
    message = _refused(tmp_path, LOADERS[kind], BOMB)
    assert f"more than {MAX_YAML_NODES:,} values" in message and "aliases expanded" in message


@pytest.mark.parametrize(
    "text",
    [
        "name: " + "[" * 1000 + "]" * 1000,
        "".join(f"{'  ' * i}k{i}:\n" for i in range(1000)) + "  " * 1000 + "v",
    ],
    ids=["flow", "block"],
)
def test_nesting_1000_deep_is_an_input_error_not_a_recursion_error(tmp_path: Path, text: str) -> None:
    assert f"nested deeper than {MAX_YAML_DEPTH} levels" in _refused(tmp_path, _as_brand, text)


def test_too_many_aliases(tmp_path: Path) -> None:
    text = "x: &x 1\nname: [" + ", ".join(["*x"] * (MAX_YAML_ALIASES + 1)) + "]"
    assert f"more than {MAX_YAML_ALIASES:,} alias uses" in _refused(tmp_path, _as_brand, text)


def test_an_alias_cycle_is_refused(tmp_path: Path) -> None:
    assert "a cycle" in _refused(tmp_path, _as_brand, "name: &a [*a]")


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    text = "name: Tidewater\n# " + "x" * MAX_YAML_BYTES
    assert f"the limit is {MAX_YAML_BYTES:,} bytes" in _refused(tmp_path, _as_brand, text)


def test_a_100k_digit_integer_is_an_input_error(tmp_path: Path) -> None:
    assert "invalid YAML value" in _refused(tmp_path, _as_brand, "name: " + "9" * 100_000)


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    root = write_brand(tmp_path / "b", MINI_BRAND, MINI_DOCS)
    (root / "brand.yaml").unlink()
    os.mkfifo(root / "brand.yaml")
    kind, message, _ = run_bounded(load_yaml, root / "brand.yaml")
    assert kind == "InputError" and "named pipe" in message and "regular file" in message


def test_plain_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("base: &b {model: m, temperature: 0.2}\none: *b\ntwo: {<<: *b, temperature: 0.7}\n")
    assert load_yaml(path)["two"] == {"model": "m", "temperature": 0.7}


# -- error messages never build a huge repr ---------------------------------------------------------


class _Model(BaseModel):
    value: str


def _validation_error(value: Any) -> ValidationError:
    try:
        _Model.model_validate({"value": value})
    except ValidationError as exc:
        return exc
    raise AssertionError("validated")


def _shared_bomb() -> list[Any]:
    # 9^9 strings through shared references: cheap to hold, ~3 GB to repr in full
    level: list[Any] = ["lol"] * 9
    for _ in range(8):
        level = [level] * 9
    return level


def _message_for(value: Any) -> str:
    return str(format_validation_error(_validation_error(value), "brand.yaml"))


@pytest.mark.parametrize(
    "make",
    [_shared_bomb, lambda: int("9" * 4000) ** 30, lambda: {i: "x" * 1000 for i in range(100_000)}],
    ids=["alias-bomb-shaped", "120k-digit-int", "big-mapping"],
)
def test_validation_errors_show_a_bounded_value(make: Callable[[], Any]) -> None:
    kind, message, seconds = run_bounded(lambda: _message_for(make()))
    assert kind == "ok", message
    assert "brand.yaml" in message and "value: Input should be a valid string (got " in message
    assert len(message) < 250 and seconds < 10


def test_bounded_repr_keeps_short_values_as_they_are() -> None:
    assert bounded_repr("Tidewater") == "'Tidewater'"
    assert bounded_repr([1, "a"]) == "[1, 'a']"
    assert len(bounded_repr("x" * 10_000)) <= 80
