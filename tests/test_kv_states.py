"""Saved KV states without a model: prefix matching and the prompt cache's size bound."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from backends.kv_states import PromptStateFiles, common_prefix

pytestmark = pytest.mark.unit


def test_common_prefix() -> None:
    a = np.array([1, 2, 3, 4], dtype=np.intc)
    assert common_prefix(a, np.array([1, 2, 9], dtype=np.intc)) == 2
    assert common_prefix(a, a[:3]) == 3
    assert common_prefix(a, np.array([], dtype=np.intc)) == 0


def test_prompt_cache_keeps_the_newest_files_within_its_size(tmp_path: Path) -> None:
    files = PromptStateFiles(tmp_path, capacity_bytes=2500, model_id="m")
    for i, name in enumerate(["old", "mid", "new"]):
        path = files.path(files.key(name))
        path.write_bytes(b"x" * 1000)
        os.utime(path, (1000 + i, 1000 + i))
    files.evict()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(files.path(files.key(n)).name for n in ("mid", "new"))


def test_prompt_cache_keys_depend_on_model_and_system_message(tmp_path: Path) -> None:
    a, b = PromptStateFiles(tmp_path, 1, "model-a"), PromptStateFiles(tmp_path, 1, "model-b")
    assert a.key("brand X") != b.key("brand X") and a.key("brand X") != a.key("brand Y")
    assert a.key("brand X") == PromptStateFiles(tmp_path, 1, "model-a").key("brand X")


def test_an_unwritable_prompt_cache_costs_only_the_speed_up(tmp_path: Path) -> None:
    """A folder that cannot be created (here: under a file) must not fail the model call."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    files = PromptStateFiles(blocker / "prompt-states", 1 << 20, "m")

    class Evaluated:  # what save() reads of a Llama before touching the disk
        n_tokens = 3
        input_ids = np.array([1, 2, 3], dtype=np.intc)

    files.save(Evaluated(), files.key("brand"))
    assert files.saves == 0 and not (blocker / "prompt-states").exists()
    assert files.load(Evaluated(), files.key("brand")) == 0
