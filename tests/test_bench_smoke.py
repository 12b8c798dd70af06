"""The quick benchmarks run from the README's set-up and print their headline last (issue 6)."""

from __future__ import annotations

import json
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


def test_campaign_benchmark_compares_prompt_designs_over_seeds(tmp_path: Path) -> None:
    """With the fake backend (no timings): every configuration runs once per seed, the prompt swaps of
    ``--compare roles`` apply, and the means are printed per configuration."""
    args = ["examples/brands/wanderly", "--backend", "fake", "--channels", "social_post", "--compare"]
    args += ["roles", "--repeat", "--seeds", "7,8", "--save-dir", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "bench/campaign.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = result.stdout.strip().splitlines()
    assert out[0].count("|") == 5  # 3 configurations x 2 seeds, side by side
    means = out[out.index("mean over seeds 7,8:") + 1 :][:3]
    assert [m.split(": wall ")[0].strip() for m in means] == [
        "all speed-ups on",
        "instructions once, in the system message (v3)",
        "repeat: brand context from disk",
    ]
    saved = sorted(p.name for p in tmp_path.iterdir())
    v3_name = "instructions_once,_in_the_system_message_(v3)_seed_8.json"
    assert len(saved) == 6 and v3_name in saved
    v3 = (tmp_path / v3_name).read_text(encoding="utf-8")
    on = (tmp_path / "all_speed-ups_on_seed_8.json").read_text(encoding="utf-8")
    assert "reviewer.review@3" in v3 and "reviewer.review@2" not in v3 and "reviewer.review@2" in on


@pytest.mark.server
def test_service_load_benchmark_runs_a_real_server_and_reports_no_errors(tmp_path: Path) -> None:
    """``brandforge serve`` in a subprocess (fake backend): a check level and two worker levels, every
    request and job without error, the figures in the JSON, the headline last."""
    report = tmp_path / "load.json"
    args = ["--seconds", "2", "--concurrency", "2", "--workers", "1,2", "--jobs", "2", "--fake-delay", "0.01"]
    result = subprocess.run(
        [sys.executable, "bench/service_load.py", *args, "--json", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout.strip().splitlines()
    last = out[-1]
    assert last.startswith("headline: check "), last
    assert ", errors 0," in last and "server log errors" not in last, last
    assert re.search(r"campaigns [\d.]+/min at 2 workers vs [\d.]+/min at 1 \(x[\d.]+\)", last), last
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [s["clients"] for s in data["check"]] == [2]
    assert data["check"][0]["requests"] > 0 and data["check"][0]["errors"] == 0
    assert [(s["workers"], s["done"], s["errors"]) for s in data["campaigns_fake"]] == [(1, 2, 0), (2, 2, 0)]
    assert all(s["rss_mb"]["peak"] for s in data["campaigns_fake"])
    assert data["headline"] == last
