"""Batch results integrity (issue 16): a resumed batch never keeps stale results or mixes models, a
full or read-only disk never leaves a line counted as done that is not whole on disk, and a hostile
jobs line is a malformed line, not a traceback.

Campaigns run on the fake backend, or on a stub OpenAI-compatible server that answers with the fake
backend's JSON (so a "served model" can change between runs without a real model).
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from core.errors import InputError
from pipelines.batch import MAX_LINE_BYTES, read_jobs, run_batch
from pipelines.cli import main
from tests.conftest import EXAMPLES
from tests.security.test_backend_limits import fake_model_server, stub_server
from tests.servers import free_port

pytestmark = [pytest.mark.unit, pytest.mark.security]
ROOT = Path(__file__).resolve().parents[2]
QUIET = io.StringIO()


def fake_pipeline(tmp_path: Path) -> str:
    text = (ROOT / "pipelines" / "default.yaml").read_text(encoding="utf-8")
    path = tmp_path / "fake.yaml"
    path.write_text(text.replace("kind: llamacpp", "kind: fake"), encoding="utf-8")
    return str(path)


def brand_copy(tmp_path: Path, name: str = "tidewater") -> Path:
    target = tmp_path / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns(".brandforge"))
    return target


def with_rule_file(brand: Path, rel: str) -> Path:
    text = (brand / "brand.yaml").read_text(encoding="utf-8")
    assert "\ncompliance:\n" in text
    text = text.replace("\ncompliance:\n", f"\ncompliance:\n  rule_files: [{rel}]\n")
    (brand / "brand.yaml").write_text(text, encoding="utf-8")
    return brand


def jobs_for(tmp_path: Path, *ids: str, brand: str = "tidewater") -> Path:
    path = tmp_path / "jobs.jsonl"
    path.write_text(
        "".join(json.dumps({"id": i, "brand": brand, "channels": ["social_post"]}) + "\n" for i in ids),
        encoding="utf-8",
    )
    return path


def result_ids(run: Path) -> list[str]:
    return [json.loads(line)["id"] for line in (run / "results.jsonl").read_text().splitlines()]


# --- finding 1: everything that changes a result is in the input hash -------------------------------


def test_changed_channel_spec_of_the_brand_makes_its_results_stale(tmp_path: Path) -> None:
    brand = brand_copy(tmp_path)
    (brand / "channels").mkdir()
    spec = (ROOT / "agents" / "channels" / "social_post.yaml").read_text(encoding="utf-8")
    (brand / "channels" / "social_post.yaml").write_text(spec, encoding="utf-8")
    jobs, run, pipeline = jobs_for(tmp_path, "t"), tmp_path / "run", fake_pipeline(tmp_path)
    run_batch(jobs, run, pipeline=pipeline, progress_stream=QUIET)
    assert run_batch(jobs, run, pipeline=pipeline, progress_stream=QUIET).already_done == 1
    (brand / "channels" / "social_post.yaml").write_text(
        spec.replace("max_chars: 280", "max_chars: 120"), encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"1 earlier result\(s\) were made with changed brand files"):
        run_batch(jobs, run, pipeline=pipeline, progress_stream=QUIET)
    again = run_batch(jobs, run, pipeline=pipeline, recompute_stale=True, progress_stream=QUIET)
    assert (again.already_done, again.succeeded) == (0, 1)


def test_changed_rule_file_of_the_brand_makes_its_results_stale(tmp_path: Path) -> None:
    brand = with_rule_file(brand_copy(tmp_path), "policy/house.yaml")
    (brand / "policy").mkdir()
    rules = (
        "pack: en.house\nlocale: en\nrules:\n"
        "  - {id: house.slang, category: tone, severity: warn, terms: [yummy], explanation: off-voice}\n"
    )
    (brand / "policy" / "house.yaml").write_text(rules, encoding="utf-8")
    jobs, run, pipeline = jobs_for(tmp_path, "t"), tmp_path / "run", fake_pipeline(tmp_path)
    assert run_batch(jobs, run, pipeline=pipeline, progress_stream=QUIET).succeeded == 1
    (brand / "policy" / "house.yaml").write_text(rules.replace("severity: warn", "severity: block"), "utf-8")
    with pytest.raises(InputError, match="changed brand files"):
        run_batch(jobs, run, pipeline=pipeline, progress_stream=QUIET)


def test_rule_file_outside_the_brand_is_a_malformed_line(tmp_path: Path) -> None:
    with_rule_file(brand_copy(tmp_path), "../../etc/x.yaml")
    jobs, bad = read_jobs(jobs_for(tmp_path, "t"))
    assert not jobs and "compliance.rule_files[0]" in bad[0].error


# --- finding 2: the fingerprint holds the served model's real id --------------------------------------


def test_two_served_models_never_mix_without_model_flag(tmp_path: Path) -> None:
    """Before: without --model the fingerprint said "default", so a rerun against a server now serving
    another model resumed and mixed both models' results."""
    brand_copy(tmp_path)
    jobs, run = jobs_for(tmp_path, "a", "b"), tmp_path / "run"
    with stub_server(fake_model_server("org/model-one")) as (url, _):
        first = run_batch(
            jobs,
            run,
            backend_overrides={"kind": "openai", "base_url": url},
            max_items=1,
            progress_stream=QUIET,
        )
    assert first.succeeded == 1 and first.extra["model"] == "org/model-one"
    (record,) = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert record["campaign"]["model"] == "org/model-one"
    stale = r"another pipeline.*or model.*model 'org/model-two'"
    with (
        stub_server(fake_model_server("org/model-two")) as (url, seen),
        pytest.raises(InputError, match=stale),
    ):
        run_batch(jobs, run, backend_overrides={"kind": "openai", "base_url": url}, progress_stream=QUIET)
    assert [s.method for s in seen] == ["GET"]  # refused before any generation
    with stub_server(fake_model_server("org/model-one")) as (url, _):
        rest = run_batch(
            jobs, run, backend_overrides={"kind": "openai", "base_url": url}, progress_stream=QUIET
        )
    assert (rest.already_done, rest.succeeded) == (1, 1)  # same served model: resumes


def test_batch_cli_against_a_closed_port_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    jobs, run = jobs_for(tmp_path, "a", brand=str(EXAMPLES / "tidewater")), tmp_path / "run"
    url = f"http://127.0.0.1:{free_port()}/v1"
    code = main(
        ["batch", str(jobs), "--out", str(run), "--backend", "openai", "--base-url", url, "--model", "m"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach OpenAI-compatible server" in err and "Traceback" not in err
    assert not run.exists()


# --- finding 3: disk full and unwritable outputs --------------------------------------------------------


def _target(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


def test_disk_full_mid_line_is_never_counted_and_the_rerun_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The third result line hits a full disk halfway: before, it was logged as done and the next write
    crashed with a traceback. Now: exit 2 naming results.jsonl, two whole lines on file, the torn one cut
    back, and the rerun does exactly what is left."""
    jobs = jobs_for(tmp_path, *(f"job-{i}" for i in range(5)), brand=str(EXAMPLES / "tidewater"))
    run, pipeline = tmp_path / "run", fake_pipeline(tmp_path)
    real_write, writes = os.write, Counter[str]()

    def full_disk(fd: int, data: bytes) -> int:
        if not _target(fd).endswith("results.jsonl"):
            return real_write(fd, data)
        writes["results"] += 1
        if writes["results"] <= 2:
            return real_write(fd, data)
        if writes["results"] == 3:
            return real_write(fd, bytes(data)[:100])  # the disk fills up during this line
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full_disk)
    code = main(["batch", str(jobs), "--out", str(run), "--pipeline", pipeline])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "results.jsonl: cannot write (No space left on device)" in err and "rerun" in err
    assert result_ids(run) == ["job-0", "job-1"]  # every line whole: the torn one was cut back
    log = (run / "batch.log").read_text()
    assert log.count("done job-") == 2 and "done job-2" not in log and "stopped:" in log
    monkeypatch.setattr(os, "write", real_write)
    assert main(["batch", str(jobs), "--out", str(run), "--pipeline", pipeline]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["already_done"], summary["succeeded"]) == (2, 3)
    assert Counter(result_ids(run)) == Counter({f"job-{i}": 1 for i in range(5)})


def test_fsync_failure_is_not_counted_either(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = jobs_for(tmp_path, "a", "b", brand=str(EXAMPLES / "tidewater"))
    run, pipeline = tmp_path / "run", fake_pipeline(tmp_path)
    real_fsync = os.fsync

    def failing(fd: int) -> None:
        if _target(fd).endswith("results.jsonl"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(InputError, match=r"results\.jsonl: cannot write \(Input/output error\)"):
        run_batch(jobs, run, pipeline=pipeline, progress_stream=QUIET)
    assert (run / "results.jsonl").read_bytes() == b""


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.ENOSPC])
def test_unwritable_run_folder_exits_2_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, code: int
) -> None:
    jobs = jobs_for(tmp_path, "a", brand=str(EXAMPLES / "tidewater"))
    run, pipeline = tmp_path / "run", fake_pipeline(tmp_path)
    real_open = os.open

    def refuse(path: str | os.PathLike[str], flags: int, *args: int, **kwargs: int) -> int:
        if str(path).endswith("results.jsonl"):
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    assert main(["batch", str(jobs), "--out", str(run), "--pipeline", pipeline]) == 2
    err = capsys.readouterr().err
    assert f"results.jsonl: cannot write ({os.strerror(code)})" in err and "Traceback" not in err


# --- finding 6: hostile jobs lines are malformed lines --------------------------------------------------


def test_hostile_jsonl_lines_are_malformed_lines_not_tracebacks(tmp_path: Path) -> None:
    good = {"id": "ok", "brand": str(EXAMPLES / "tidewater"), "channels": ["social_post"]}
    jobs = tmp_path / "jobs.jsonl"
    with jobs.open("w", encoding="utf-8") as f:
        f.write("[" * 100_000 + "\n")
        f.write("1" * 100_000 + "\n")
        f.write(json.dumps({"id": "n", "brand": "x", "channels": [int("9" * 120)]}) + "\n")
        nested: list = []
        for _ in range(40):
            nested = [nested]
        f.write(json.dumps({"id": "deep", "brand": {"voice": {"do": nested}}}) + "\n")
        f.write('{"id": "huge", "brand": "' + "x" * (MAX_LINE_BYTES + 10) + '"}\n')
        f.write(json.dumps(good) + "\n")
    parsed, bad = read_jobs(jobs)
    assert [j.id for j in parsed] == ["ok"]
    assert [b.line for b in bad] == [1, 2, 3, 4, 5]
    assert "nested deeper than 32" in bad[0].error
    assert "more than 100 digits" in bad[1].error and "more than 100 digits" in bad[2].error
    assert "nested deeper than 32" in bad[3].error
    assert "line longer than 1 MB" in bad[4].error
    assert all(len(b.error) < 200 for b in bad)


def test_hostile_csv_rows_are_malformed_lines(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(
        f"id,brand,channels\nbig,{'x' * 200_000},social_post\nok,{EXAMPLES / 'tidewater'},social_post\n",
        encoding="utf-8",
    )
    parsed, bad = read_jobs(jobs)
    assert [j.id for j in parsed] == ["ok"] and "invalid CSV" in bad[0].error


def test_batch_cli_with_hostile_lines_runs_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    jobs = tmp_path / "jobs.jsonl"
    good = {"id": "ok", "brand": str(EXAMPLES / "tidewater"), "channels": ["social_post"]}
    jobs.write_text("[" * 100_000 + "\n" + "7" * 100_000 + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    run = tmp_path / "run"
    # The good line is done; the malformed ones are bad input (pipelines.exits: 2), never a crash.
    assert main(["batch", str(jobs), "--out", str(run), "--pipeline", fake_pipeline(tmp_path)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    errors = [json.loads(line) for line in (run / "errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in errors] == [1, 2] and result_ids(run) == ["ok"]


# --- bounded run-level knobs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"concurrency": 1_000_000}, "--concurrency"),
        ({"concurrency": 0}, "--concurrency"),
        ({"timeout_per_item": float("nan")}, "--timeout-per-item"),
        ({"timeout_per_item": -1.0}, "--timeout-per-item"),
        ({"max_tokens_per_item": 10**12}, "--max-tokens-per-item"),
        ({"max_items": 0}, "--max-items"),
    ],
)
def test_batch_knobs_are_bounded(tmp_path: Path, kwargs: dict, flag: str) -> None:
    jobs = jobs_for(tmp_path, "a", brand=str(EXAMPLES / "tidewater"))
    with pytest.raises(InputError, match=rf"^{flag}: expected a number from"):
        run_batch(jobs, tmp_path / "run", pipeline=fake_pipeline(tmp_path), progress_stream=QUIET, **kwargs)
    assert not (tmp_path / "run").exists()
