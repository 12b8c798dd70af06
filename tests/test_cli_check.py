"""``brandforge check``: any text in, verdict and explained findings out, exit 0 / 1 / 2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import main

pytestmark = pytest.mark.unit


def _check(args: list[str], capsys: pytest.CaptureFixture, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_blocking_text_exits_1_with_json_findings(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "ad.txt"
    path.write_text("Wanderly，最 佳的旅行，國家級路线。", encoding="utf-8")
    code, out, _ = _check([str(path), "--locale", "zh"], capsys)
    report = json.loads(out)
    assert code == 1 and report["verdict"] == "block" and report["packs"] == ["zh.general"]
    found = [(f["rule_id"], f["span"], f["matched"]) for f in report["findings"]]
    assert found == [("zh.absolute", [9, 12], "最 佳"), ("zh.state_endorsement", [16, 19], "國家級")]
    first = report["findings"][0]
    assert first["category"] == "superlative" and "第九条" in first["legal_reference"] and first["suggestion"]


def test_clean_text_from_stdin_exits_0(capsys, monkeypatch) -> None:
    code, out, _ = _check(["-", "--locale", "en"], capsys, "Best regards from the roastery.", monkeypatch)
    assert code == 0 and json.loads(out) == {
        "verdict": "pass",
        "locale": "en",
        "industry": "general",
        "packs": ["en.general"],
        "findings": [],
    }


def test_warn_only_exits_0(capsys, monkeypatch) -> None:
    text = "It lowers your bill by 20%."
    code, out, _ = _check(["--locale", "en", "--rules-only"], capsys, text, monkeypatch)
    assert code == 0 and json.loads(out)["verdict"] == "warn"  # a claim it cannot verify without --brand
    code, out, _ = _check(["--locale", "en"], capsys, text, monkeypatch)  # read as a claim needing a source
    assert code == 1 and json.loads(out)["findings"][0]["layer"] == "rules"


def test_lines_and_industry(capsys, monkeypatch) -> None:
    text = "Hydrating serum with 2% niacinamide.\n\nRepairs damaged skin barrier overnight and cures acne.\n"
    code, out, _ = _check(["--locale", "en", "--industry", "cosmetics", "--lines"], capsys, text, monkeypatch)
    report = json.loads(out)
    assert code == 1 and report["packs"] == ["en.general", "en.cosmetics"]
    assert [(p["line"], p["verdict"]) for p in report["pieces"]] == [(1, "warn"), (3, "block")]
    rules = {f["rule_id"] for f in report["pieces"][1]["findings"]}
    assert "en.health_effect" in rules and any(r.startswith("en.cosmetics.") for r in rules)


def test_markup_is_reported_with_a_sanitized_copy(capsys, monkeypatch) -> None:
    text = "Shop now <script>x()</script> at [our store](https://evil.example)."
    code, out, _ = _check(["--locale", "en"], capsys, text, monkeypatch)
    report = json.loads(out)
    assert code == 1 and report["sanitized"] == "Shop now at our store."


def test_brand_evidence_terms_and_text_format(examples: Path, capsys, monkeypatch, tmp_path: Path) -> None:
    import shutil

    brand = tmp_path / "wanderly"
    shutil.copytree(examples / "wanderly", brand, ignore=shutil.ignore_patterns(".brandforge"))
    text = "雨崩徒步全程约 48 公里。\n出发前 10 天取消可全额退款，详询 400-000-0000。\nTrailora 也不错。\n"
    code, out, _ = _check(["--brand", str(brand), "--lines", "--format", "text"], capsys, text, monkeypatch)
    assert code == 1
    # The FAQ gives another figure for cancellations: contradicted, not merely unstated.
    assert "[claims.contradicted_figure] '出发前 10 天取消可全额退款，详询 400-000-0000。'" in out
    assert "considered: knowledge/" in out or "supports: knowledge/" in out
    assert "[brand.competitor] 'Trailora'" in out and "pii" not in out  # the brand's own hotline is allowed
    assert "line 1" not in out  # 48 km is in the trek's documents
    assert out.rstrip().splitlines()[-1].startswith("verdict: block (")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--locale", "fr"], "unknown locale 'fr'; valid choices: en, zh"),
        (["--locale", "en", "--industry", "crypto"], "unknown industry 'crypto'"),
        (["{tmp}/missing.txt", "--locale", "en"], "missing.txt: cannot read text file (file not found)"),
        (["{tmp}/binary.txt", "--locale", "en"], "binary.txt: not UTF-8 text"),
        ([], "--locale is required without --brand"),
        (["--brand", "{tmp}/nobrand"], "brand folder not found"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str, tmp_path: Path, capsys, monkeypatch) -> None:
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    argv = [a.format(tmp=tmp_path) for a in args]
    code, _, err = _check(argv, capsys, "text", monkeypatch)
    assert code == 2 and err.startswith("error: ") and message in err and "Traceback" not in err


def test_check_as_a_process() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "check", "--locale", "en", "--format", "text"],
        input="Guaranteed results, risk-free!",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "[en.guarantee] 'Guaranteed results'" in proc.stdout
