"""The test guard (tests/model_guard.py): the real model loads only in tests marked ``llm``/``server``/
``gpu``. Proven on a separate pytest run of tests written here, none of which loads a real model: the
unmarked ones are stopped by the guard, the marked ones get through to llama.cpp and to the model path."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.unit

INNER_TESTS = """
import llama_cpp
import pytest

from backends import get_backend
from backends.embedded_model import MODEL_FILE, MODEL_SHA256, MODEL_SIZE, embedded_model_path
from backends.registry import validate_backend_config


def test_unmarked_llama():
    llama_cpp.Llama(model_path="/nonexistent/model.gguf")


def test_unmarked_embedded_backend():
    get_backend(validate_backend_config({"kind": "llamacpp"})).warm_up()


def test_unmarked_swallowing_everything():
    try:
        embedded_model_path()
    except BaseException:
        pass


def test_unmarked_fake_backend_is_fine():
    backend = get_backend(validate_backend_config({"kind": "fake"}))
    backend.warm_up()
    assert backend.kind == "fake"


@pytest.mark.llm
def test_marked_llm_reaches_llama_cpp():
    with pytest.raises(ValueError, match="does not exist"):
        llama_cpp.Llama(model_path="/nonexistent/model.gguf")


@pytest.mark.server
def test_marked_server_resolves_the_model_path(tmp_path, monkeypatch):
    monkeypatch.setenv("BRANDFORGE_CACHE", str(tmp_path))
    model = tmp_path / "models" / MODEL_FILE
    model.parent.mkdir()
    with model.open("wb") as fh:
        fh.truncate(MODEL_SIZE)  # sparse: the size check passes without writing a gigabyte
    model.with_suffix(".sha256").write_text(MODEL_SHA256 + "\\n")
    assert embedded_model_path() == model
"""


def test_guard_fails_unmarked_model_loads_and_lets_marked_tests_through(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeini("[pytest]\nmarkers =\n    llm: real model\n    server: real server\n")
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "tests.model_guard", "-q", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert (outcomes.get("passed"), outcomes.get("failed")) == (3, 3), result.stdout.str()
    out = result.stdout.str()
    for name, what in [
        ("test_unmarked_llama", "llama_cpp.Llama(...)"),
        ("test_unmarked_embedded_backend", "backends.embedded_model.embedded_model_path()"),
        ("test_unmarked_swallowing_everything", "backends.embedded_model.embedded_model_path()"),
    ]:
        assert (
            f"test test_inner.py::{name} loads the real model ({what}) but is not marked llm or server "
            "or gpu" in out
        ), out
    assert "Traceback" not in out  # the guard's message, not a stack dump


def test_this_run_has_the_guard_installed() -> None:
    """The project's own runs load the guard (tests/conftest.py), so the fast suite is covered; and the
    llama.cpp backend looks the model path up at call time, so it gets the guarded function (a name bound
    at import, before the guard is installed, would go around it)."""
    import llama_cpp

    import backends.embedded_model as embedded
    import backends.llamacpp

    assert getattr(embedded.embedded_model_path, "__model_guard__", False)
    assert getattr(llama_cpp.Llama.__new__, "__model_guard__", False)
    assert "embedded_model_path" not in vars(backends.llamacpp)
