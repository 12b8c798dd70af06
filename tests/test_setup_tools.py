"""The set-up's own steps (tools/): the llama.cpp build that ``make setup`` made is one that runs here."""

from __future__ import annotations

import importlib.util
import platform
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit
TOOLS = Path(__file__).resolve().parent.parent / "tools"


def _tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_the_installed_llama_cpp_has_no_amx_kernel_and_is_the_pinned_version() -> None:
    # An AMX kernel in the library means a build that segfaults on Sapphire Rapids (tools/install_llama.py).
    pytest.importorskip("llama_cpp")
    from importlib.metadata import version

    tool = _tool("install_llama")
    assert version("llama-cpp-python") == tool.pinned_llama()
    assert tool.amx_libraries() == []


def test_the_llama_build_turns_amx_off_on_x86_only(monkeypatch: pytest.MonkeyPatch) -> None:
    tool = _tool("install_llama")
    monkeypatch.setenv("CFLAGS", "-O2")
    monkeypatch.delenv("CXXFLAGS", raising=False)
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    env = tool.build_env()
    assert env["CFLAGS"] == "-O2 -mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    assert env["CXXFLAGS"] == "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert tool.build_env()["CFLAGS"] == "-O2" and "CXXFLAGS" not in tool.build_env()
