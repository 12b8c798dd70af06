"""``brandforge batch``: bad lines, resume exactly once (SIGKILL included), stale results, limits, Ray.

All with the fake backend (a pipeline YAML with ``kind: fake`` and a per-call delay), so the process
can be killed while items are in flight.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from backends.base import Completion
from backends.fake import FakeBackend, FakeConfig
from core.errors import InputError
from pipelines.batch import read_jobs, run_batch
from pipelines.cli import main
from tests.conftest import EXAMPLES
from tests.servers import recording_openai_server

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parent.parent


def fake_pipeline(
    tmp_path: Path, delay: float = 0.0, name: str = "fake.yaml", temperature: float = 0.3
) -> Path:
    text = (ROOT / "pipelines" / "default.yaml").read_text(encoding="utf-8")
    text = text.replace("kind: llamacpp", f"kind: fake\n  delay_s: {delay}").replace(
        "temperature: 0.3", f"temperature: {temperature}"
    )
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def write_jobs(tmp_path: Path, n: int, channels: list[str] | None = None) -> Path:
    brands = ["tidewater", "wanderly", "clearleaf"]
    lines = []
    for i in range(n):
        job = {"id": f"job-{i}", "brand": str(EXAMPLES / brands[i % 3])}
        if channels:
            job["channels"] = channels
        lines.append(json.dumps(job))
    path = tmp_path / "jobs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def result_ids(run: Path) -> list[str]:
    lines = (run / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["id"] for line in lines]  # every line parses: no torn lines


def test_bad_lines_go_to_errors_and_the_rest_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    jobs = tmp_path / "jobs.jsonl"
    brand = EXAMPLES / "tidewater"
    jobs.write_text(
        "\n".join(
            [
                json.dumps({"id": "ok", "brand": str(brand), "channels": ["social_post"]}),
                "{not json",
                json.dumps({"brand": str(brand)}),
                json.dumps({"id": "ok", "brand": str(brand)}),
                json.dumps({"id": "gone", "brand": "no/such/brand"}),
                json.dumps(
                    {"id": "bad-yaml", "brand": {"name": "X", "locale": "xx_bad!", "positioning": "p"}}
                ),
                json.dumps({"id": "tiktok", "brand": str(brand), "channels": ["tiktok"]}),
                json.dumps([1, 2]),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    run = tmp_path / "run"
    code = main(["batch", str(jobs), "--out", str(run), "--pipeline", str(fake_pipeline(tmp_path))])
    assert code == 2  # some lines malformed: bad input (pipelines.exits)
    errors = [json.loads(line) for line in (run / "errors.jsonl").read_text().splitlines()]
    assert [(e["line"], e["id"]) for e in errors] == [
        (2, None),
        (3, None),
        (4, "ok"),
        (5, "gone"),
        (6, "bad-yaml"),
        (7, "tiktok"),
        (8, None),
    ]
    assert "invalid JSON" in errors[0]["error"] and "id: Field required" in errors[1]["error"]
    assert "duplicate id (first on line 1)" in errors[2]["error"]
    assert "brand folder not found" in errors[3]["error"] and "locale" in errors[4]["error"]
    assert "unknown channel 'tiktok'" in errors[5]["error"]
    assert result_ids(run) == ["ok"]
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["succeeded"], summary["malformed"], summary["failed"]) == (1, 7, 0)
    assert summary["verdicts"]["social_post"] and summary["tokens"]["completion_tokens"] > 0
    assert "# BrandForge batch report" in (run / "report.md").read_text()
    assert "done ok in" in (run / "batch.log").read_text()
    assert "batch: 1 done, 0 failed, 7 malformed" in capsys.readouterr().err


def test_inline_brand_and_csv(tmp_path: Path) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "facts.md").write_text(
        "# Facts\nOur tea is picked by hand in Fujian.\n", encoding="utf-8"
    )
    inline = {"name": "Leafline", "positioning": "Hand-picked tea.", "locale": "en", "knowledge_dir": "kb"}
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(
        "id,brand,channels\n"
        f"t1,{EXAMPLES / 'tidewater'},social_post;search_ad\n"
        f"t2,{EXAMPLES / 'wanderly'},\n",
        encoding="utf-8",
    )
    parsed, bad = read_jobs(jobs)
    assert [(j.id, j.channels) for j in parsed] == [
        ("t1", ("social_post", "search_ad")),
        ("t2", None),
    ] and not bad
    jsonl = tmp_path / "inline.jsonl"
    jsonl.write_text(json.dumps({"id": "leaf", "brand": inline, "channels": ["social_post"]}) + "\n")
    summary = run_batch(
        jsonl, tmp_path / "run", pipeline=str(fake_pipeline(tmp_path)), progress_stream=io.StringIO()
    )
    assert summary.succeeded == 1 and result_ids(tmp_path / "run") == ["leaf"]


def test_resume_does_only_what_is_left(tmp_path: Path) -> None:
    jobs, pipeline, run = (
        write_jobs(tmp_path, 5, ["social_post"]),
        str(fake_pipeline(tmp_path)),
        tmp_path / "run",
    )
    quiet = io.StringIO()
    first = run_batch(jobs, run, pipeline=pipeline, max_items=2, progress_stream=quiet)
    assert (first.succeeded, first.not_run) == (2, 3) and first.exit_code == 0
    second = run_batch(jobs, run, pipeline=pipeline, concurrency=2, progress_stream=quiet)
    assert (second.already_done, second.succeeded, second.not_run) == (2, 3, 0)
    third = run_batch(jobs, run, pipeline=pipeline, progress_stream=quiet)
    assert (third.already_done, third.succeeded) == (5, 0)
    assert sorted(result_ids(run)) == [f"job-{i}" for i in range(5)]


def test_stale_results_are_refused_then_recomputed(tmp_path: Path) -> None:
    jobs, run = write_jobs(tmp_path, 3, ["social_post"]), tmp_path / "run"
    quiet = io.StringIO()
    run_batch(jobs, run, pipeline=str(fake_pipeline(tmp_path)), progress_stream=quiet)
    changed = str(fake_pipeline(tmp_path, name="warmer.yaml", temperature=0.9))
    with pytest.raises(
        InputError, match=r"3 earlier result\(s\) were made with another pipeline.*--recompute-stale"
    ):
        run_batch(jobs, run, pipeline=changed, progress_stream=quiet)
    again = run_batch(jobs, run, pipeline=changed, recompute_stale=True, progress_stream=quiet)
    assert (again.already_done, again.succeeded) == (0, 3)
    assert Counter(result_ids(run)) == Counter({"job-0": 1, "job-1": 1, "job-2": 1})
    assert len(list(run.glob("results.stale-*.jsonl"))) == 1


def test_changed_brand_documents_make_that_item_stale(tmp_path: Path) -> None:
    import shutil

    brand = tmp_path / "tidewater"
    shutil.copytree(EXAMPLES / "tidewater", brand, ignore=shutil.ignore_patterns(".brandforge"))
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps({"id": "t", "brand": "tidewater", "channels": ["social_post"]}) + "\n")
    pipeline, run, quiet = str(fake_pipeline(tmp_path)), tmp_path / "run", io.StringIO()
    run_batch(jobs, run, pipeline=pipeline, progress_stream=quiet)
    (brand / "knowledge" / "new.md").write_text("# New\nA new single origin from Huila.\n", encoding="utf-8")
    with pytest.raises(InputError, match="changed brand files"):
        run_batch(jobs, run, pipeline=pipeline, progress_stream=quiet)


def test_torn_last_line_is_cut_and_redone(tmp_path: Path) -> None:
    jobs, pipeline, run = (
        write_jobs(tmp_path, 2, ["social_post"]),
        str(fake_pipeline(tmp_path)),
        tmp_path / "run",
    )
    quiet = io.StringIO()
    run_batch(jobs, run, pipeline=pipeline, progress_stream=quiet)
    data = (run / "results.jsonl").read_bytes()
    (run / "results.jsonl").write_bytes(data[: len(data) - 40])  # a crash in the middle of the last line
    again = run_batch(jobs, run, pipeline=pipeline, progress_stream=quiet)
    assert (again.already_done, again.succeeded) == (1, 1)
    assert sorted(result_ids(run)) == ["job-0", "job-1"]


def _batch_process(jobs: Path, run: Path, pipeline: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "batch",
            str(jobs),
            "--out",
            str(run),
            "--pipeline",
            str(pipeline),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_results(run: Path, n: int, proc: subprocess.Popen, limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        path = run / "results.jsonl"
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"no {n} results before the deadline; rc={proc.poll()}")


@pytest.mark.slow
def test_sigkill_midway_then_rerun_gives_exactly_one_line_per_id(tmp_path: Path) -> None:
    jobs, run = write_jobs(tmp_path, 8, ["social_post"]), tmp_path / "run"
    slow = fake_pipeline(tmp_path, delay=0.15)
    proc = _batch_process(jobs, run, slow, "--concurrency", "2")
    _wait_for_results(run, 3, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    finished = set(result_ids(run))
    assert 3 <= len(finished) < 8
    rerun = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "batch",
            str(jobs),
            "--out",
            str(run),
            "--pipeline",
            str(slow),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["already_done"] == len(finished) and summary["succeeded"] == 8 - len(finished)
    ids = result_ids(run)
    assert Counter(ids) == Counter({f"job-{i}": 1 for i in range(8)})  # exactly once, nothing torn


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_resumes(tmp_path: Path) -> None:
    jobs, run = write_jobs(tmp_path, 6, ["social_post"]), tmp_path / "run"
    slow = fake_pipeline(tmp_path, delay=0.15)
    proc = _batch_process(jobs, run, slow)
    _wait_for_results(run, 1, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["interrupted"] and summary["not_run"] > 0
    done = len(result_ids(run))
    assert main(["batch", str(jobs), "--out", str(run), "--pipeline", str(slow)]) == 0
    assert (
        len(result_ids(run)) == 6 and json.loads((run / "summary.json").read_text())["already_done"] == done
    )


def test_time_and_token_limits_fail_the_item_not_the_batch(tmp_path: Path) -> None:
    jobs, quiet = write_jobs(tmp_path, 2, ["social_post"]), io.StringIO()
    slow = str(fake_pipeline(tmp_path, delay=0.2))
    timed = run_batch(jobs, tmp_path / "t", pipeline=slow, timeout_per_item=0.3, progress_stream=quiet)
    assert (timed.succeeded, timed.failed, timed.exit_code) == (0, 2, 4)  # 4: items could not finish
    errors = [json.loads(line) for line in (tmp_path / "t" / "errors.jsonl").read_text().splitlines()]
    assert all("timed out" in e["error"] for e in errors)
    budget = run_batch(
        jobs,
        tmp_path / "b",
        pipeline=str(fake_pipeline(tmp_path)),
        max_tokens_per_item=500,
        progress_stream=quiet,
    )
    assert budget.failed == 2
    assert "token budget spent" in (tmp_path / "b" / "errors.jsonl").read_text()
    # the failed items are retried by the next run
    retry = run_batch(jobs, tmp_path / "b", pipeline=str(fake_pipeline(tmp_path)), progress_stream=quiet)
    assert (retry.succeeded, retry.failed) == (2, 0)


def test_transient_server_errors_are_retried_in_one_place(tmp_path: Path) -> None:
    """The backend client retries a 503 ``max_retries`` times with backoff; the batch records the item as
    failed (to retry next run) and does not add a retry loop of its own."""
    jobs, quiet = write_jobs(tmp_path, 1, ["social_post"]), io.StringIO()
    with recording_openai_server(lambda body, n: (503, {"error": {"message": "overloaded"}})) as (
        url,
        bodies,
    ):
        summary = run_batch(
            jobs,
            tmp_path / "run",
            backend_overrides={"kind": "openai", "base_url": url, "model": "m", "max_retries": 2},
            progress_stream=quiet,
        )
    assert (summary.succeeded, summary.failed) == (0, 1)
    assert len(bodies) == 3  # 1 call + 2 retries, then the item stops
    (error,) = [json.loads(line) for line in (tmp_path / "run" / "errors.jsonl").read_text().splitlines()]
    assert error["id"] == "job-0" and "backend error" in error["error"]


def test_bad_invocation_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["batch", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "r")]) == 2
    assert "jobs file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["batch", "x.jsonl", "--out", "r", "--concurrency", "0"])
    assert exit_info.value.code == 2


def test_an_item_whose_campaign_cannot_finish_is_a_failed_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No valid brief (the strategist's answers never validate): the item is not recorded as a result but
    as failed, saying which step could not finish; the batch exits 4 and the next run retries it."""

    class NoBrief(FakeBackend):
        def _complete(self, messages, json_schema, params):  # type: ignore[no-untyped-def]
            if "audience_insight" in (json_schema or {}).get("properties", {}):
                return Completion(text="{", prompt_tokens=1, completion_tokens=1, seconds=0.01,
                                  model=self.model_name, backend=self.kind)  # fmt: skip
            return super()._complete(messages, json_schema, params)

    broken = NoBrief(FakeConfig())
    for name in ("get_backend", "get_concurrent_backend"):  # the driver's and the items' backend
        monkeypatch.setattr(f"pipelines.batch.{name}", lambda config: broken)
    jobs = write_jobs(tmp_path, 1, ["social_post"])
    summary = run_batch(
        jobs, tmp_path / "run", pipeline=str(fake_pipeline(tmp_path)), progress_stream=io.StringIO()
    )
    assert (summary.succeeded, summary.failed, summary.internal, summary.exit_code) == (0, 1, 0, 4)
    (error,) = [json.loads(line) for line in (tmp_path / "run" / "errors.jsonl").read_text().splitlines()]
    assert error["error"].startswith("incomplete: no valid model output during strategist: ")
    assert not (tmp_path / "run" / "results.jsonl").read_text()


def test_an_item_that_hits_a_bug_is_counted_as_internal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("pipelines.batch.CampaignSession.run", bug)
    jobs = write_jobs(tmp_path, 1, ["social_post"])
    summary = run_batch(
        jobs, tmp_path / "run", pipeline=str(fake_pipeline(tmp_path)), progress_stream=io.StringIO()
    )
    assert (summary.failed, summary.internal) == (1, 1)
    assert "unexpected ZeroDivisionError" in (tmp_path / "run" / "errors.jsonl").read_text()


def test_ray_tasks_request_what_the_backend_needs() -> None:
    from backends.registry import resources
    from pipelines.spec import load_pipeline

    def needs(kind: str, **fields: object) -> dict[str, float]:
        return resources(load_pipeline("default", backend_overrides={"kind": kind, **fields}).spec.backend)

    assert needs("vllm", model="Qwen/Qwen2.5-7B-Instruct").get("num_gpus") == 1  # the model loads in the task
    assert not needs("fake").get("num_gpus") and not needs("openai", base_url="http://h/v1").get("num_gpus")


@pytest.mark.slow
def test_ray_executor_same_files_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    # A GPU declared (none needed): Ray hands it to a task that asks, as on a GPU node.
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        jobs, pipeline, quiet = (
            write_jobs(tmp_path, 4, ["social_post"]),
            str(fake_pipeline(tmp_path)),
            io.StringIO(),
        )
        first = run_batch(
            jobs,
            tmp_path / "run",
            pipeline=pipeline,
            executor="ray",
            concurrency=2,
            max_items=2,
            progress_stream=quiet,
        )
        assert (first.succeeded, first.not_run, first.executor) == (2, 2, "ray")
        rest = run_batch(
            jobs, tmp_path / "run", pipeline=pipeline, executor="ray", concurrency=2, progress_stream=quiet
        )
        assert (rest.already_done, rest.succeeded) == (2, 2)
        assert Counter(result_ids(tmp_path / "run")) == Counter({f"job-{i}": 1 for i in range(4)})
        local = run_batch(jobs, tmp_path / "local", pipeline=pipeline, progress_stream=quiet)
        assert local.succeeded == 4
        by_id = lambda run: {  # noqa: E731
            json.loads(line)["id"]: json.loads(line)["campaign"]["pieces"]
            for line in (run / "results.jsonl").read_text().splitlines()
        }
        assert by_id(tmp_path / "run") == by_id(tmp_path / "local")  # same work, same pieces
        log = (tmp_path / "run" / "batch.log").read_text()
        assert "requests {'num_cpus': 1" in log and " on CPU 1\n" in log and "GPU" not in log
        # A backend that needs a GPU (vllm in process): each task asks for one and Ray assigns it.
        monkeypatch.setattr(
            "pipelines.batch.backend_resources", lambda config: {"num_cpus": 1, "num_gpus": 1}
        )
        gpu = run_batch(jobs, tmp_path / "gpu", pipeline=pipeline, executor="ray", concurrency=2, max_items=2,
                        progress_stream=quiet)  # fmt: skip
        assert gpu.succeeded == 2
        assert (tmp_path / "gpu" / "batch.log").read_text().count(" on CPU 1, GPU 1\n") == 2
    finally:
        ray.shutdown()
