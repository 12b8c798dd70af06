"""The CLI end to end with the fake backend: outputs, exit codes, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import main
from tests.conftest import MINI_BRAND, write_brand

pytestmark = pytest.mark.unit


def test_campaign_json_and_exit_code(mini_brand: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "c.json"
    code = main(["campaign", str(mini_brand), "--backend", "fake", "--out", str(out)])
    data = json.loads(out.read_text())
    assert set(data) >= {"brand", "brief", "pieces", "trace"}
    assert [p["channel"] for p in data["pieces"]] == ["search_ad", "social_post", "cs_reply"]
    assert [p["compliance"]["verdict"] for p in data["pieces"]] == ["pass", "pass", "pass"]
    assert code == 0  # nothing blocked (tests/test_exits.py: 1 when something is, and the other codes)
    err = capsys.readouterr().err
    assert "strategist: writing the creative brief" in err and "done: 3 pieces" in err


def test_markdown_and_channels_flag(mini_brand: Path, capsys: pytest.CaptureFixture) -> None:
    main(
        [
            "campaign",
            str(mini_brand),
            "--backend",
            "fake",
            "--format",
            "md",
            "--channels",
            "social_post",
            "-q",
        ]
    )
    out = capsys.readouterr().out
    assert out.startswith("# Tidewater") and "## social\\_post" in out and "## search\\_ad" not in out
    assert "Scorecard: " in out and "checks passed" in out


@pytest.mark.parametrize(
    "args,message",
    [
        (["campaign", "{tmp}/nope"], "brand folder not found"),
        (["campaign", "{brand}", "--channels", "tiktok"], "unknown channel 'tiktok'; valid choices"),
        (["campaign", "{brand}", "--pipeline", "missing.yaml"], "pipeline file not found"),
        (["campaign", "{brand}", "--backend", "openai"], "needs base_url"),
        (
            ["campaign", "{brand}", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1"],
            "cannot reach",
        ),
    ],
)
def test_bad_input_exits_2_with_message(
    args: list[str], message: str, mini_brand: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = [a.format(tmp=tmp_path, brand=mini_brand) for a in args]
    assert main([*argv, "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_missing_channel_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = write_brand(
        tmp_path / "b",
        MINI_BRAND.replace(
            'channel_inputs: {cs_reply: {question: "How fresh is the coffee when it arrives?"}}', ""
        ),
        {"a.md": "Fresh coffee."},
    )
    assert main(["campaign", str(root), "--backend", "fake", "-q"]) == 2
    assert "channel 'cs_reply' needs ['question']" in capsys.readouterr().err


def test_index_command(mini_brand: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["index", str(mini_brand)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passages"] > 0 and len(report["added"]) == 2
    assert main(["index", str(mini_brand)]) == 0
    assert json.loads(capsys.readouterr().out)["embedded"] == 0


def test_console_script_runs_as_a_process(mini_brand: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "campaign", str(mini_brand / "nothing")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "brand folder not found" in proc.stderr and "Traceback" not in proc.stderr


def test_backend_failure_mid_run_keeps_finished_work(mini_brand: Path) -> None:
    """A server that dies during compliance: pieces already checked are kept, the rest are delivered
    as blocked with the error — nothing is silently dropped."""
    from backends import BackendError
    from backends.fake import FakeBackend, FakeConfig
    from pipelines import run_campaign

    backend = FakeBackend(FakeConfig())
    original = backend._complete
    compliance_calls = []

    def dying(messages, schema, params):
        if "compliance editor" in messages[-1]["content"]:
            compliance_calls.append(1)
            if len(compliance_calls) > 2:
                raise BackendError("connection reset by peer")
        return original(messages, schema, params)

    backend._complete = dying  # type: ignore[method-assign]
    campaign = run_campaign(mini_brand, backend="fake", llm=backend)
    assert [p.channel for p in campaign.pieces] == ["search_ad", "social_post", "cs_reply"]
    lost = [
        p for p in campaign.pieces if any(f.rule_id == "pipeline.incomplete" for f in p.compliance.findings)
    ]
    assert lost and all(p.compliance.verdict == "blocked" for p in lost)
    assert all("connection reset" in p.compliance.findings[0].explanation for p in lost)
    assert all(p.fields for p in lost)  # the drafts written before the failure are still there
    assert len(lost) < len(campaign.pieces)
    assert campaign.backend_error == "during compliance: connection reset by peer"
    assert campaign.status == "incomplete" and campaign.failure is not None
    assert (campaign.failure.step, campaign.failure.reason) == ("compliance", "backend")


def test_output_file_is_readable_by_others(mini_brand: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    main(["campaign", str(mini_brand), "--backend", "fake", "--out", str(out), "-q"])
    assert out.stat().st_mode & 0o044 == 0o044  # follows the usual umask, not mkstemp's 0600


def test_prompts_list_show_diff(capsys: pytest.CaptureFixture) -> None:
    assert main(["prompts", "list"]) == 0
    listing = capsys.readouterr().out
    assert "copywriter.draft@1" in listing and "evals.rubric@1" in listing
    assert main(["prompts", "show", "reviewer.review@1"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("# reviewer.review@1  hash ")
    assert "# inputs: brand, channel, brief, draft" in shown
    assert "# needs context" not in shown and "# thread" not in shown
    assert main(["prompts", "show", "reviewer.review@3"]) == 0
    shown = capsys.readouterr().out
    assert "\n# thread: a turn in the campaign's conversation\n# needs context: context.system@2\n" in shown
    assert main(["prompts", "diff", "reviewer.review@1", "copywriter.revise@1"]) == 0
    diff = capsys.readouterr().out
    assert diff.startswith("--- reviewer.review@1 (") and "+++ copywriter.revise@1 (" in diff
    assert "\n-You are the reviewer." in diff and "\n+You are the copywriter." in diff
    assert main(["prompts", "diff", "reviewer.review@1", "reviewer.review@1"]) == 0
    assert "have the same template" in capsys.readouterr().out
    assert main(["prompts", "show", "reviewer.review@9"]) == 2
    versions = "['reviewer.review@1', 'reviewer.review@2', 'reviewer.review@3']"
    assert f"valid choices: {versions}" in capsys.readouterr().err
    assert main(["prompts", "diff", "reviewer.review@1"]) == 2
    assert "expected: brandforge prompts diff ID@V1 ID@V2" in capsys.readouterr().err
