"""Honest exits and logs: every exit code of the contract (pipelines/exits.py) from a real run, the
one-line internal error, --version, and -v/--log-level reaching the library's loggers.

The incomplete runs talk to a real OpenAI-compatible HTTP endpoint on 127.0.0.1 that fails the way a
server does (an error status mid-run, answers that are not JSON); the blocked run uses the fake backend
on a brand that bans every word the fake writes."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from backends.fake import _WORDS, FakeBackend, FakeConfig
from core.log import PACKAGES, configure_logging, resolve_level
from pipelines.batch import BatchSummary
from pipelines.cli import main
from pipelines.exits import ExitCode, batch_exit_code
from tests.conftest import MINI_BRAND, MINI_DOCS, ROOT, write_brand
from tests.servers import chat_response, recording_openai_server

pytestmark = pytest.mark.unit


def _run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _answering(fail_from: int | None = None, garbage: bool = False):  # type: ignore[no-untyped-def]
    """A responder for recording_openai_server: schema-valid JSON from the fake backend for each
    request, until request ``fail_from``, from which on the server answers 400 (a refusal, not retried)."""
    fake = FakeBackend(FakeConfig())

    def respond(body: dict[str, Any], n: int) -> tuple[int, dict[str, Any]]:
        if fail_from is not None and n >= fail_from:
            return 400, {"error": {"message": "CUDA error: an illegal memory access was encountered"}}
        if garbage:
            return 200, chat_response("Sure! Here is your brief, in prose rather than JSON.")
        schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
        return 200, chat_response(fake.complete(body["messages"], json_schema=schema).text)

    return respond


def _openai(url: str) -> list[str]:
    return ["--backend", "openai", "--base-url", url, "--model", "served-model"]


# --- 0 and 1 ---------------------------------------------------------------------------------------------


def test_ok_exits_0_and_blocked_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    brand = write_brand(tmp_path / "mini", MINI_BRAND, MINI_DOCS)
    code, _, _ = _run(
        ["campaign", str(brand), "--backend", "fake", "--channels", "social_post", "-q"], capsys
    )
    assert code == ExitCode.OK == 0
    banning_everything = MINI_BRAND.replace("banned_terms: [cheap]", f"banned_terms: [{', '.join(_WORDS)}]")
    strict = write_brand(tmp_path / "strict", banning_everything, MINI_DOCS)
    out = tmp_path / "c.json"
    argv = ["campaign", str(strict), "--backend", "fake", "--channels", "social_post", "--out", str(out)]
    code, _, err = _run(argv, capsys)
    campaign = json.loads(out.read_text())
    assert code == ExitCode.BLOCKED == 1
    assert [p["compliance"]["verdict"] for p in campaign["pieces"]] == ["blocked"]
    assert "(1 blocked: social_post)" in err and "incomplete" not in err


# --- 4: incomplete ---------------------------------------------------------------------------------------


def test_backend_failing_mid_run_exits_4_with_the_finished_work_written(
    mini_brand: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "c.json"
    with recording_openai_server(_answering(fail_from=6)) as (url, bodies):
        code, _, err = _run(["campaign", str(mini_brand), *_openai(url), "--out", str(out), "-q"], capsys)
    assert code == ExitCode.INCOMPLETE == 4
    campaign = json.loads(out.read_text())
    assert (
        campaign["failure"]["reason"] == "backend"
        and "illegal memory access" in campaign["failure"]["message"]
    )
    assert campaign["brief"] is not None  # the work done before the failure is kept
    assert [p["channel"] for p in campaign["pieces"]] == ["search_ad", "social_post", "cs_reply"]
    assert len(bodies) >= 6
    (line,) = [line for line in err.splitlines() if line.startswith("incomplete:")]
    assert "the backend failed during" in line and str(out) in line
    assert "Traceback" not in err and "internal error" not in err


def test_no_valid_brief_exits_4(mini_brand: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "c.json"
    with recording_openai_server(_answering(garbage=True)) as (url, _):
        code, _, err = _run(["campaign", str(mini_brand), *_openai(url), "--out", str(out), "-q"], capsys)
    campaign = json.loads(out.read_text())
    assert code == ExitCode.INCOMPLETE
    assert campaign["failure"]["reason"] == "no_valid_output" and campaign["failure"]["step"] == "strategist"
    assert all(p["compliance"]["verdict"] == "blocked" for p in campaign["pieces"])
    assert "incomplete: no valid output during strategist" in err


# --- 2: bad input and configuration, before any work -----------------------------------------------------


def test_bad_configuration_exits_2_naming_file_and_field(
    mini_brand: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        (ROOT / "pipelines" / "default.yaml").read_text().replace("max_tokens: 700", "max_tokens: lots")
    )
    code, _, err = _run(["campaign", str(mini_brand), "--pipeline", str(pipeline), "-q"], capsys)
    assert code == ExitCode.BAD_INPUT == 2
    assert err.startswith("error: ") and str(pipeline) in err and "max_tokens" in err


# --- 3: internal error -----------------------------------------------------------------------------------


def _a_bug(args: object) -> int:
    raise RuntimeError("channel 'sms' has no spec\n  and a second line of a long message")


def test_an_unexpected_exception_is_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr("pipelines.cli._cmd_schema", _a_bug)
    code, out, err = _run(["schema", "brand"], capsys)
    assert code == ExitCode.INTERNAL == 3 and out == ""
    assert err == (
        "internal error: RuntimeError: channel 'sms' has no spec; this is a bug — rerun with --log-level "
        "debug for the traceback\n"
    )


@pytest.mark.parametrize("flags", [["--log-level", "debug"], ["-vv"], ["schema", "-vv"]])
def test_debug_logging_shows_the_traceback(
    flags: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr("pipelines.cli._cmd_schema", _a_bug)
    argv = [*flags, "brand"] if flags[0] == "schema" else [*flags, "schema", "brand"]
    code, _, err = _run(argv, capsys)
    assert code == 3
    assert "debug pipelines.cli: internal error\nTraceback (most recent call last):" in err
    assert "in _a_bug" in err
    assert err.rstrip().splitlines()[-1].endswith("this is a bug — the traceback is above")


def test_internal_error_from_a_real_process(tmp_path: Path) -> None:
    """Through ``sys.exit(main())`` in a fresh interpreter: status 3 and one line on stderr."""
    script = (
        "import sys\nfrom pipelines import cli\n"
        "def bug(args):\n    raise ZeroDivisionError('division by zero')\n"
        "cli._cmd_prompts = bug\nsys.exit(cli.main(['prompts', 'list']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 3 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "internal error: ZeroDivisionError: division by zero; this is a bug — rerun with --log-level debug "
        "for the traceback"
    ]


def test_a_closed_pipe_is_not_called_a_bug(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def reader_went_away(args: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("pipelines.cli._cmd_prompts", reader_went_away)
    code, _, err = _run(["prompts", "list"], capsys)
    assert code == 141 and err == ""


# --- batch -----------------------------------------------------------------------------------------------


def _summary(**changes: Any) -> BatchSummary:
    base: dict[str, Any] = dict(
        jobs=3, malformed=0, already_done=0, succeeded=3, failed=0, not_run=0, seconds=1.0,
        items_per_hour=None, tokens={}, verdicts={"email": {"pass": 3}},
    )  # fmt: skip
    return BatchSummary(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ExitCode.OK),
        ({"verdicts": {"email": {"pass": 2, "blocked": 1}}}, ExitCode.BLOCKED),
        ({"malformed": 1, "verdicts": {"email": {"blocked": 1}}}, ExitCode.BAD_INPUT),
        ({"failed": 1, "malformed": 1}, ExitCode.INCOMPLETE),
        ({"failed": 1, "interrupted": True}, ExitCode.INTERRUPTED),
    ],
)
def test_batch_exit_code_follows_the_contract(changes: dict[str, Any], expected: ExitCode) -> None:
    assert batch_exit_code(_summary(**changes)) == expected


def test_batch_with_a_failing_item_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    pipeline = tmp_path / "slow.yaml"
    pipeline.write_text(
        (ROOT / "pipelines" / "default.yaml")
        .read_text()
        .replace("kind: llamacpp", "kind: fake\n  delay_s: 0.2")
    )
    jobs = tmp_path / "jobs.jsonl"
    brand = ROOT / "examples" / "brands" / "tidewater"
    jobs.write_text(json.dumps({"id": "a", "brand": str(brand), "channels": ["social_post"]}) + "\n")
    argv = ["batch", str(jobs), "--out", str(tmp_path / "run"), "--pipeline", str(pipeline)]
    code, _, err = _run([*argv, "--timeout-per-item", "0.1"], capsys)
    assert code == ExitCode.INCOMPLETE and "0 done, 1 failed" in err
    errors = (tmp_path / "run" / "errors.jsonl").read_text()
    assert "timed out" in errors


# --- --version, --help, logging --------------------------------------------------------------------------


def test_version_and_help(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"brandforge {version('brandforge')}\n"
    with pytest.raises(SystemExit):
        main(["campaign", "--help"])
    help_text = capsys.readouterr().out
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "130"):
        assert f"\n  {code}" in help_text
    assert "internal error: a bug" in help_text and "incomplete:" in help_text


def test_log_levels_reach_the_library_loggers(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    brand = write_brand(tmp_path / "b", MINI_BRAND, {**MINI_DOCS, "notes.xyz": "not a document type"})
    # default: warnings (knowledge.documents skips a file it cannot read), no info
    code, _, err = _run(["index", str(brand)], capsys)
    assert code == 0
    assert "warning knowledge.documents: skipping " in err and "notes.xyz: unsupported type" in err
    # -v: info too (knowledge.index rebuilding because a setting changed); after the subcommand as well
    code, _, err = _run(["index", str(brand), "--faiss-index", "hnsw", "-v"], capsys)
    assert code == 0 and "info knowledge.index: index settings changed" in err
    assert "debug pipelines.cli" not in err
    # --log-level error: neither
    code, _, err = _run(["--log-level", "ERROR", "index", str(brand)], capsys)
    assert code == 0 and "warning" not in err and "info" not in err


def test_configure_logging_replaces_instead_of_stacking() -> None:
    configure_logging(logging.INFO)
    configure_logging(logging.DEBUG)
    for package in PACKAGES:
        logger = logging.getLogger(package)
        ours = [h for h in logger.handlers if type(h).__name__ == "_StderrHandler"]
        assert len(ours) == 1 and logger.level == logging.DEBUG == ours[0].level
    configure_logging()
    assert (resolve_level(), resolve_level(1), resolve_level(2), resolve_level(5)) == (30, 20, 10, 10)
    assert resolve_level(2, "error") == logging.ERROR
    with pytest.raises(ValueError, match="valid choices"):
        resolve_level(log_level="loud")


def test_a_channel_without_a_valid_draft_exits_4_not_blocked(
    mini_brand: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A piece the model never produced is not a compliance block: the campaign is incomplete (4), the
    other channels' pieces are written, and the message names the channel."""
    fake = FakeBackend(FakeConfig())
    victim = "social_post"  # one of the mini brand's channels (tests/conftest.py)

    def respond(body: dict[str, Any], n: int) -> tuple[int, dict[str, Any]]:
        schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema") or {}
        asks_for_draft = "fields" in schema.get("properties", {})
        # The draft request, or the re-ask after an invalid answer (the request is then 2 turns back).
        asked = [m["content"] for m in body["messages"] if m["content"].startswith("You are the copywriter")]
        if asks_for_draft and asked and victim in asked[-1]:
            return 200, chat_response("Here is a lovely draft, in prose rather than JSON.")
        return 200, chat_response(fake.complete(body["messages"], json_schema=schema).text)

    out = tmp_path / "c.json"
    with recording_openai_server(respond) as (url, _):
        code, _, err = _run(["campaign", str(mini_brand), *_openai(url), "--out", str(out), "-q"], capsys)
    campaign = json.loads(out.read_text())
    assert code == ExitCode.INCOMPLETE, err
    assert campaign["failure"] is None  # no step stopped: one channel got no piece
    (missing,) = [p for p in campaign["pieces"] if p["channel"] == victim]
    assert [f["rule_id"] for f in missing["compliance"]["findings"]] == ["pipeline.no_draft"]
    assert any(p["fields"] for p in campaign["pieces"] if p["channel"] != victim)
    assert f"incomplete: no finished piece for {victim}" in err
