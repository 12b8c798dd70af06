"""The quick benchmarks run from the README's set-up and print their headline last (issue 6)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.unit


def test_overhead_benchmark_runs_and_reports_a_ratio() -> None:
    out = (
        subprocess.run(
            [sys.executable, "bench/overhead.py", "--runs", "2", "--delay", "0.05"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        .stdout.strip()
        .splitlines()
    )
    rows = [line for line in out if re.match(r"\s+\d+\s+\d+\s", line)]
    assert len(rows) == 2
    last = re.fullmatch(r"orchestration overhead \(warm, delay 0.05s/call\) = (\d+\.\d+)%", out[-1])
    assert last is not None, out[-1]
    assert 0.0 < float(last.group(1)) < 100.0
