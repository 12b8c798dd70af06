"""Brand monitoring without a model: reading mentions (JSONL, CSV exports, bad lines), masking, brands,
aspects, alerts, topics, the run's files and the CLI. The real embedder and classifier are used
throughout; the language model's part is in test_monitor_model.py (scripted) and test_monitor_llm.py
(the embedded model)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from core.errors import InputError
from knowledge.brand import Brand, load_brand
from monitor.alerts import NEGATIVE_RULE, VOLUME_RULE, spikes
from monitor.aspects import AspectFinder
from monitor.brands import BrandMatcher, edit_distance
from monitor.insights import Insights, insights_json_schema, load_insights
from monitor.language import language_of
from monitor.mentions import read_mentions
from monitor.privacy import mask
from monitor.run import run_monitor
from monitor.synthetic import SPIKE_DAY, synthetic_month, write_mentions
from pipelines import cli

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parent.parent
WANDERLY = ROOT / "examples" / "brands" / "wanderly"


def tracked(brand: Brand, rivals: dict[str, list[str]], aliases: list[str] | None = None) -> Brand:
    monitor = brand.monitor.model_copy(update={"competitors": rivals, "aliases": aliases or []})
    return brand.model_copy(update={"monitor": monitor})


# --- reading ----------------------------------------------------------------------------------------


def test_jsonl_bad_lines_are_reported_and_every_good_line_kept(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    lines = [
        {"id": "1", "text": "好评", "time": "2026-11-01T10:00:00+08:00", "source": "weibo"},
        "not json at all",
        ["a", "list"],
        {"id": "2", "text": "  ", "time": "2026-11-01T10:00:00", "source": "weibo"},
        {"id": "3", "text": "ok", "time": "yesterday", "source": "weibo"},
        {"id": "1", "text": "again", "time": "2026-11-02T10:00:00", "source": "weibo"},
        {"id": "4", "text": "rated", "time": 1_793_000_000_000, "source": "app", "rating": 11},
        {"id": 5, "text": "numeric id", "time": "2026-11-03 09:30", "source": "x", "likes": 3},
        {"text": "no id", "time": "2026-11-03 09:30", "source": "x"},
    ]
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n\n")
    read = read_mentions(path, timezone="Asia/Shanghai")
    assert [m.id for m in read.mentions] == ["1", "5"]
    assert read.mentions[1].time.isoformat() == "2026-11-03T09:30:00+08:00"  # no offset: the zone given
    reasons = {e.line: e.reason for e in read.errors}
    assert reasons[2].startswith("not JSON") and "expected a JSON object" in reasons[3]
    assert "text" in reasons[4] and "expected a time" in reasons[5] and "duplicate id" in reasons[6]
    assert "rating" in reasons[7] and "id" in reasons[9]
    assert next(e for e in read.errors if e.line == 6).id == "1" and read.ignored == {"likes": 1}


def test_a_review_sites_csv_export_is_read_by_its_own_headers(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text(
        "Review ID,Date,Source,Author,Rating,Title,Body,URL,Helpful Votes\n"
        '101,2026-11-03 14:22,Trustpilot,Ann,2,Pilled badly,"Balled up under sunscreen, ""meh""",https://x.example/1,4\n'
        "102,11/04/2026 09:00,Reddit,Bo,,,Anyone tried the SPF?,,\n"
        "103,2026-11-05,Amazon,Cy,5\n",
        encoding="utf-8",
    )
    read = read_mentions(path, timezone="America/Los_Angeles")
    first, second = read.mentions
    assert first.text == 'Pilled badly\nBalled up under sunscreen, "meh"' and first.rating == 2
    assert first.time.utcoffset() == timedelta(hours=-8) and second.time.day == 4
    assert second.rating is None and second.url is None
    assert read.errors[0].line == 4 and "columns" in read.errors[0].reason
    assert read.ignored == {"Helpful Votes": 1}


def test_columns_map_an_unknown_export(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Post Key,Posted At,Where,Words\nk1,2026-11-01T00:00:00Z,tiktok,so good\n")
    with pytest.raises(InputError, match="no text column"):
        read_mentions(path)
    read = read_mentions(
        path, columns={"id": "Post Key", "time": "Posted At", "source": "Where", "text": "Words"}
    )
    assert read.mentions[0].id == "k1" and read.mentions[0].text == "so good"
    with pytest.raises(InputError, match="no column 'Body'"):
        read_mentions(path, columns={"text": "Body"})


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("m.txt", b"x", "unknown file type"),
        ("m.jsonl", b"\xff\xfe\x00bad", "not UTF-8"),
        ("m.csv", b"", "empty file"),
    ],
)
def test_a_file_that_cannot_be_read_names_itself(
    tmp_path: Path, name: str, data: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError, match=expected) as caught:
        read_mentions(path)
    assert name in str(caught.value)
    with pytest.raises(InputError, match="unknown time zone"):
        read_mentions(path, timezone="Mars/Olympus")


# --- per mention ------------------------------------------------------------------------------------


def test_personal_data_is_masked_but_business_contacts_kept() -> None:
    text, kinds = mask(
        "退款没到，我电话13812345678，邮箱 li.ming@163.com；"
        "你们400-820-1234打不通，support@wanderly.example 也不回"
    )
    assert "13812345678" not in text and "li.ming@163.com" not in text
    assert "[phone]" in text and "[email]" in text and kinds == ["phone", "email"]
    assert "400-820-1234" in text and "support@wanderly.example" in text
    assert mask("call (503) 555-0142")[0] == "call [phone]"


def test_brands_are_found_by_alias_and_misspelling_longest_first() -> None:
    brand = tracked(load_brand(WANDERLY), {"途远假期": ["途远"], "山野行": ["山野"]}, ["W家"])
    matcher = BrandMatcher(brand)
    assert matcher.find("Wanderley 的团太贵，途远便宜多了") == ["Wanderly", "途远假期"]
    assert matcher.find("w家领队不错，山野有约也行") == ["Wanderly", "山野有约"]  # not also 山野行
    assert matcher.find("I wandered around") == [] and matcher.find("wonderly trip!") == ["Wanderly"]
    tide = tracked(load_brand(ROOT / "examples/brands/tidewater"), {"Summit Beans": []})
    finder = BrandMatcher(tide)
    assert finder.find("Tide Water coffee was stale") == ["Tidewater Coffee Roasters"]
    assert finder.find("tidewatr > summit beans") == ["Tidewater Coffee Roasters", "Summit Beans"]
    assert finder.find("the tide was low at the summit") == []
    assert edit_distance("wanderley", "wanderly", 2) == 1 and edit_distance("abcdef", "badcfe", 2) == 3


def test_aspects_come_from_the_lexicon_and_the_brand() -> None:
    brand = load_brand(WANDERLY)
    finder = AspectFinder(brand)
    assert finder.find("雨崩的向导太棒了，就是价格有点贵") == ["price", "guide"]
    assert finder.find("Refunded after 3 emails; the hotel room was noisy") == ["refund", "accommodation"]
    extended = brand.model_copy(
        update={"monitor": brand.monitor.model_copy(update={"aspects": {"photography": ["拍照", "photo*"]}})}
    )
    assert AspectFinder(extended).find("great photos") == ["photography"]


def test_language_by_script_or_as_given() -> None:
    assert language_of("W家的领队太nice了") == "zh" and language_of("Loved 雨崩 so much") == "en"
    assert language_of("😍😍😍") == "other" and language_of("好", "en-US") == "en"


# --- across mentions --------------------------------------------------------------------------------


def test_a_spike_needs_to_clear_its_rolling_baseline() -> None:
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(14)]
    counts = [6, 8, 7, 5, 9, 6, 7, 30, 8, 7, 6, 9, 8, 7]
    found = spikes(days, counts, VOLUME_RULE)
    assert [(s.day.day, s.count) for s in found] == [(8, 30)]
    assert found[0].baseline_mean == pytest.approx(6.86, abs=0.01)
    assert spikes(days, [0] * 13 + [3], NEGATIVE_RULE) == []  # under the minimum count
    assert spikes(days, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6], NEGATIVE_RULE)  # a quiet series wakes up


@pytest.fixture(scope="module")
def month_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, object]], Path, Insights]:
    folder = tmp_path_factory.mktemp("month")
    rows = synthetic_month(900, seed=3)
    rows[0]["text"] = "Wanderly 退款拖了一周，我电话 13912345678，邮箱 zhang.wei@qq.com 快回复"
    mentions = write_mentions(rows, folder / "mentions.jsonl")
    brand = tracked(load_brand(WANDERLY), {"途远假期": ["途远"]})
    run = run_monitor(mentions, brand, folder / "run")
    return rows, folder / "run", run.insights


def test_the_planted_spike_and_topics_are_found(
    month_run: tuple[list[dict[str, object]], Path, Insights],
) -> None:
    rows, _, insights = month_run
    negative = [a for a in insights.alerts if a.kind == "negative_spike"]
    assert [a.day for a in negative] == [f"2026-11-{SPIKE_DAY}"]
    assert "previous 7 days" in negative[0].rule
    planted = {str(r["id"]): str(r["planted_topic"]) for r in rows}
    mentions = [json.loads(line) for line in (month_run[1] / "mentions.jsonl").read_text().splitlines()]
    by_topic: dict[int, list[str]] = {}
    for m in mentions:
        by_topic.setdefault(m["topic"], []).append(planted[m["id"]])
    purity = sum(max(ts.count(t) for t in set(ts)) for ts in by_topic.values()) / len(mentions)
    assert purity >= 0.85
    spike_topic = negative[0].topics[0]  # the day's biggest topic is the planted complaint
    planted_there = by_topic[spike_topic]
    assert planted_there.count("refund") / len(planted_there) >= 0.9
    assert insights.top_complaints and all(h.topic >= -1 for h in insights.top_complaints)


def test_every_input_id_has_one_line_and_no_output_holds_personal_data(
    month_run: tuple[list[dict[str, object]], Path, Insights],
) -> None:
    rows, run_dir, insights = month_run
    lines = (run_dir / "mentions.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(str(r["id"]) for r in rows)
    for name in ("mentions.jsonl", "insights.json", "report.html"):
        text = (run_dir / name).read_text(encoding="utf-8")
        assert "13912345678" not in text and "zhang.wei@qq.com" not in text, name
    first = json.loads(lines[0]) if json.loads(lines[0])["id"] == rows[0]["id"] else None
    assert first is not None and first["masked"] == ["phone", "email"] and "[phone]" in first["text"]
    assert (run_dir / "errors.jsonl").read_text() == ""
    assert load_insights(run_dir / "insights.json") == insights
    voice = {b.brand: b for b in insights.share_of_voice}
    assert voice["Wanderly"].own and voice["Wanderly"].mentions > 0 and "途远假期" in voice


def test_the_insights_schema_in_docs_is_current() -> None:
    shipped = (ROOT / "docs" / "monitor-insights.schema.json").read_text(encoding="utf-8")
    assert shipped == insights_json_schema(), (
        "regenerate: brandforge schema insights > docs/monitor-insights.schema.json"
    )


def test_the_report_is_self_contained(month_run: tuple[list[dict[str, object]], Path, Insights]) -> None:
    html = (month_run[1] / "report.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in html and "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert (
        "<svg" in html and f"2026-11-{SPIKE_DAY}" in html and "负面激增" in html
    )  # a Chinese brand's report
    # ... in Chinese throughout, the method and the alert rules included
    assert "情感：每条提及由逻辑回归分类器判断" in html and "规则：某天的" in html
    assert "logistic-regression" not in html and "on a day >=" not in html
    # ... the aspects too: the planted refund topic reads "退款", not "refund"
    assert "<td>退款</td>" in html and ">refund<" not in html and ">service<" not in html


def test_load_insights_names_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "insights.json"
    bad.write_text('{"schema_version": 1, "brand": 3}')
    with pytest.raises(InputError, match=r"insights\.json") as caught:
        load_insights(bad)
    assert "brand" in str(caught.value)


# --- the command line -------------------------------------------------------------------------------


def test_cli_monitor_writes_the_run_and_refuses_bad_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mentions = write_mentions(synthetic_month(120, seed=1), tmp_path / "m.jsonl")
    with (tmp_path / "m.jsonl").open("a") as fh:
        fh.write("{broken\n")
    out = tmp_path / "run"
    code = cli.main(
        [
            "monitor",
            str(mentions),
            "--brand",
            str(WANDERLY),
            "--out",
            str(out),
            "--no-model",
            "-q",
            "--lang",
            "en",
        ]
    )
    assert code == 2  # the other lines are done; errors.jsonl says which line was not read and why
    assert "120 mentions (1 bad lines)" in capsys.readouterr().err
    assert json.loads((out / "errors.jsonl").read_text())["line"] == 121
    assert "Volume and sentiment by day" in (out / "report.html").read_text()
    code = cli.main(
        ["monitor", str(mentions), "--brand", str(WANDERLY), "--out", str(out), "--columns", "text"]
    )
    assert code == 2 and "expected FIELD=Header" in capsys.readouterr().err
    code = cli.main(
        ["monitor", str(tmp_path / "none.jsonl"), "--brand", str(WANDERLY), "--out", str(out), "--no-model"]
    )
    assert code == 2 and "none.jsonl" in capsys.readouterr().err


def test_a_batch_of_brands_runs_resumes_and_reports_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_mentions(synthetic_month(150, seed=2), tmp_path / "wanderly.jsonl")
    jobs = tmp_path / "jobs.jsonl"
    brand = str(WANDERLY)
    jobs.write_text(
        "\n".join(
            [
                json.dumps({"id": "wanderly-nov", "brand": brand, "mentions": "wanderly.jsonl"}),
                json.dumps({"id": "../escape", "brand": brand, "mentions": "wanderly.jsonl"}),
                json.dumps({"id": "gone", "brand": brand, "mentions": "missing.jsonl"}),
                json.dumps({"id": "wanderly-nov", "brand": brand, "mentions": "wanderly.jsonl"}),
                json.dumps({"id": "x", "brand": brand, "mentions": "wanderly.jsonl", "colour": "red"}),
            ]
        )
        + "\n"
    )
    out = tmp_path / "runs"
    assert cli.main(["monitor-batch", str(jobs), "--out", str(out), "--no-model", "-q"]) == 4
    assert "1 jobs run, 0 already done, 1 failed, 3 bad lines" in capsys.readouterr().err
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in errors] == [2, 4, 5, 3]
    assert "missing.jsonl" in errors[-1]["reason"] and "duplicate" in errors[1]["reason"]
    assert (out / "wanderly-nov" / "insights.json").is_file() and not (tmp_path / "escape").exists()
    done = json.loads((out / "wanderly-nov" / "done.json").read_text())
    assert done["mentions"] == 150
    cli.main(["monitor-batch", str(jobs), "--out", str(out), "--no-model", "-q"])
    assert "0 jobs run, 1 already done, 1 failed" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert [j["status"] for j in summary["jobs"]] == ["skipped (already done)", "failed"]
