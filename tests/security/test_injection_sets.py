"""The quarantine's detector on the tuning sets stays where it was tuned: a regression guard.

``injection_dev.yaml`` was written to tune the patterns and ``injection_blind1.yaml`` was measured blind once
and then tuned on; both now guard against a pattern change that loses cases. The sealed set is measured by
``bench/injection.py``, not asserted here (see BENCHMARKS.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agents.retriever import instruction_in

pytestmark = [pytest.mark.unit, pytest.mark.security]
DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.mark.parametrize("name", ["injection_dev.yaml", "injection_blind1.yaml"])
def test_tuning_sets_are_still_told_apart(name: str) -> None:
    cases = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["cases"]
    missed = [c["id"] for c in cases if c["label"] == "inject" and instruction_in(c["text"]) is None]
    false_alarms = [
        c["id"] for c in cases if c["label"] == "benign" and instruction_in(c["text"]) is not None
    ]
    injections = sum(c["label"] == "inject" for c in cases)
    assert len(missed) <= injections // 20, missed  # recall at least 95 %
    assert false_alarms == []
