"""pytest plugin: the real model loads only in tests marked for it.

Contract: while a test runs (its set-up, call and tear-down, fixtures included), constructing a
``llama_cpp.Llama`` (any GGUF, the embedded model or ``--model FILE``) or resolving the embedded model's
path (``backends.embedded_model.embedded_model_path``, which every llama.cpp backend and test server goes
through) fails the test unless it is marked ``llm``, ``server`` or ``gpu`` (:data:`MARKS`); outside any
test (collection, imports) it always fails. The failure names the test and what to do. It is raised as
pytest's ``Failed`` (a BaseException, so ``except Exception`` in the code under test cannot hide it), and
recorded, so a test that swallows even that still fails after its call.

Limits: it guards this process; a test that starts ``brandforge`` or a server in a subprocess is not
seen (such tests are marked ``server`` anyway). Registered by tests/conftest.py; other runs load it with
``-p tests.model_guard``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from typing import Any

import pytest

MARKS = ("llm", "server", "gpu")

_current: pytest.Item | None = None  # the test running now; process-wide, so threads it starts see it
_violations = pytest.StashKey[list[str]]()


def _allowed(item: pytest.Item | None) -> bool:
    return item is not None and any(item.get_closest_marker(mark) for mark in MARKS)


def _refuse(what: str) -> None:
    item = _current
    if _allowed(item):
        return
    where = f"test {item.nodeid}" if item is not None else "code outside any test (import or collection)"
    message = (
        f"{where} loads the real model ({what}) but is not marked {' or '.join(MARKS)}: mark it "
        "@pytest.mark.llm if it needs the real model, or use the fake backend (backends.fake.FakeConfig())"
    )
    if item is not None:
        item.stash.setdefault(_violations, []).append(message)
    pytest.fail(message, pytrace=False)


def _guarded(function: Callable[..., Any], what: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _refuse(what)
        return function(*args, **kwargs)

    guarded.__model_guard__ = True  # type: ignore[attr-defined]
    return guarded


def install() -> None:
    """Wrap the two ways in (idempotent)."""
    import backends.embedded_model as embedded

    if not getattr(embedded.embedded_model_path, "__model_guard__", False):
        embedded.embedded_model_path = _guarded(  # type: ignore[assignment]
            embedded.embedded_model_path, "backends.embedded_model.embedded_model_path()"
        )
    try:
        from llama_cpp import Llama
    except ImportError:  # no embedded extra: nothing can load a GGUF in this process
        return
    if not getattr(Llama.__new__, "__model_guard__", False):
        # __new__, not __init__: refused before the object exists, so llama.cpp's __del__ never runs on a
        # half-made Llama. Llama does not define __new__: object.__new__ takes the class alone.
        def new(cls: type, *args: Any, **kwargs: Any) -> Any:
            return object.__new__(cls)

        Llama.__new__ = staticmethod(_guarded(new, "llama_cpp.Llama(...)"))  # type: ignore[method-assign,assignment]


def pytest_configure(config: pytest.Config) -> None:
    install()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
    global _current
    _current = item
    try:
        return (yield)
    finally:
        _current = None


def _fail_if_swallowed(item: pytest.Item) -> None:
    violations = item.stash.get(_violations, [])
    if violations:
        item.stash[_violations] = []
        pytest.fail(violations[0], pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    result = yield
    _fail_if_swallowed(item)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    result = yield
    _fail_if_swallowed(item)
    return result
