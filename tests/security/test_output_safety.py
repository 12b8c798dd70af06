"""What BrandForge writes is safe to open and is never lost.

Findings (issue 16): ``--format md`` escaped nothing (a knowledge file name with a backtick and an
``<img onerror=…>`` came out as raw HTML); the model-written brief was not sanitised in JSON or md;
a read-only ``--out`` lost the finished campaign with a traceback; binary on standard input was
accepted where the same bytes as a file were refused.
"""

from __future__ import annotations

import errno
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from agents.state import (
    BrandSummary,
    Campaign,
    CampaignStats,
    ComplianceFinding,
    ComplianceResult,
    CreativeBrief,
    KeyMessage,
    Piece,
    QuarantinedPassage,
)
from backends.fake import FakeBackend, FakeConfig
from pipelines import cli, run_campaign
from pipelines.render import campaign_to_markdown, md_text
from tests.conftest import MINI_BRAND, MINI_DOCS, write_brand

pytestmark = [pytest.mark.unit, pytest.mark.security]

EVIL = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "![x](http://evil.example/p.png)",
    "`code` **bold** _em_ ~~strike~~ | a | b |",
    "<http://evil.example>",
    "&lt;img src=x onerror=alert(1)&gt;",
]


def _evil_campaign() -> Campaign:
    text = " ".join(EVIL)
    return Campaign(
        brand=BrandSummary(name="# Brand <b>", positioning=text, locale="en", industry="x"),
        pipeline="p",
        backend="fake",
        model="<svg onload=alert(1)>",
        brief=CreativeBrief(
            audience_insight=text,
            key_messages=[KeyMessage(text=text, citations=[f"`{EVIL[0]}`.md#0"])],
            tone=text,
        ),
        pieces=[
            Piece(
                channel="email",
                fields={"body": "# heading?\n- item?\n1. number?\n> quote?\n\n    indented code?\n" + text},
                citations=[f"knowledge/a`b{EVIL[0]}.md#0"],
                compliance=ComplianceResult(
                    verdict="blocked",
                    findings=[
                        ComplianceFinding(rule_id="x.y", category="c", severity="block", explanation=text),
                        ComplianceFinding(
                            rule_id="safety.link_host",
                            category="unsafe_markup",
                            severity="block",
                            explanation="links to a host the brand does not allow ('https://evil.example/x')",
                        ),
                    ],
                ),
            )
        ],
        trace=[],
        passages=[],
        quarantined=[QuarantinedPassage(id=f"{EVIL[1]}#0", doc=EVIL[1], where="file name", matched=text)],
        stats=CampaignStats(
            seconds=1,
            llm_calls=0,
            prompt_tokens=0,
            completion_tokens=0,
            cached_prompt_tokens=0,
            llm_seconds=0,
        ),
    )


def test_markdown_output_renders_no_markup_from_supplied_text() -> None:
    html = (
        MarkdownIt("commonmark")
        .enable("table")
        .enable("strikethrough")
        .render(campaign_to_markdown(_evil_campaign()))
    )
    for tag in (
        "<img",
        "<script",
        "<svg",
        "<a ",
        "<code",
        "<em>",
        "<strong>x",
        "<table",
        "<s>",
        "<b>",
        "<blockquote",
        "<pre",
    ):
        assert tag not in html, tag
    assert "https://evil" not in html and "https[:]//evil.example/x" in html  # quoted, not clickable
    # the renderer's own structure is still there, and the words read as written
    assert html.count("<h2>") >= 2
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "[click](javascript:alert(1))" in html
    assert "<h1># Brand &lt;b&gt;" in html


def test_html_report_renders_no_markup_from_supplied_text() -> None:
    from html.parser import HTMLParser

    from pipelines.report import campaign_html

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: set[str] = set()
            self.attrs: list[tuple[str, str | None]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.add(tag)
            self.attrs += attrs

    page = Tags()
    html = campaign_html(_evil_campaign())
    page.feed(html)
    assert not page.tags & {"img", "script", "svg", "iframe", "object", "embed", "link", "form"}
    assert "<h1># Brand &lt;b&gt;</h1>" in html  # the brand's "<b>" is text
    assert not [name for name, _ in page.attrs if name.startswith("on") or name in {"src", "style"}]
    assert all(value.startswith("#") for name, value in page.attrs if name == "href" and value is not None)


@pytest.mark.parametrize(
    "text", [*EVIL, "# x", "- x", "1. x", "2) x", "+ x", "===", "a\\b", "6,980元/人 (含税)"]
)
def test_md_text_shows_the_words_as_written(text: str) -> None:
    html = MarkdownIt("commonmark").render(md_text(text))
    assert html.startswith("<p>") and html.count("<") == 2  # one paragraph, no other element
    shown = html[3:-5].replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    assert shown == text


def test_the_brief_is_sanitised_like_a_piece(tmp_path: Path) -> None:
    brand = write_brand(tmp_path / "b", MINI_BRAND, MINI_DOCS)
    dirty = "Fresh <script>alert(1)</script>coffee, see [deal](http://evil.example/x) <b>now</b>"

    def script(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema and "key_messages" in schema.get("properties", {}):
            return {
                "audience_insight": dirty,
                "key_messages": [{"text": dirty, "citations": []}] * 3,
                "tone": dirty,
                "channel_angles": [{"channel": "social_post", "angle": dirty}],
            }
        return None

    llm = FakeBackend(FakeConfig(), script=script)
    campaign = run_campaign(brand, channels=["social_post"], llm=llm, index_dir=tmp_path / "idx")
    brief = campaign.brief
    assert brief is not None
    for text in (
        brief.audience_insight,
        brief.tone,
        brief.key_messages[0].text,
        brief.channel_angles["social_post"],
    ):
        assert "<" not in text and "evil.example" not in text and "alert" not in text, text
        assert "Fresh" in text and "deal" in text  # the words stay


def test_unwritable_out_fails_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    brand = write_brand(tmp_path / "b", MINI_BRAND, MINI_DOCS)
    code = cli.main(["campaign", str(brand), "--backend", "fake", "-q", "--out", "/dev/null/x.json"])
    err = capsys.readouterr().err
    assert code == 2
    assert "/dev/null/x.json: --out: cannot write here" in err
    assert not (brand / ".brandforge").exists()  # it stopped before indexing


def test_a_failed_write_keeps_the_campaign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    brand = write_brand(tmp_path / "b", MINI_BRAND, MINI_DOCS)

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("core.files.atomic_write", disk_full)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    out = tmp_path / "c.json"
    code = cli.main(
        ["campaign", str(brand), "--backend", "fake", "-q", "--channels", "social_post", "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "cannot write the file (No space left on device); the result was saved to" in err
    saved = Path(err.split("saved to ")[1].split(" instead")[0])
    assert saved.parent == tmp_path
    assert json.loads(saved.read_text(encoding="utf-8"))["pieces"][0]["channel"] == "social_post"


@pytest.mark.parametrize("data", [b"hello\x00world", b"\xff\xfe\x00b\x00a\x00d", b"caf\xe9"])
def test_stdin_and_file_refuse_the_same_bytes(
    data: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "in.txt"
    file.write_bytes(data)
    assert cli.main(["check", "--locale", "en", str(file)]) == 2
    from_file = capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert cli.main(["check", "--locale", "en", "-"]) == 2
    from_stdin = capsys.readouterr().err
    assert from_file.split(": ", 2)[-1] == from_stdin.split(": ", 2)[-1]
    assert "Traceback" not in from_file + from_stdin


def test_check_refuses_a_fifo_and_oversized_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert cli.main(["check", "--locale", "en", str(fifo)]) == 2
    assert "pipe: found a named pipe (FIFO); expected a text file" in capsys.readouterr().err
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (cli.MAX_INPUT_BYTES + 1))
    assert cli.main(["check", "--locale", "en", str(big)]) == 2
    assert (
        "big.txt: text file too large (8,388,609 bytes); the limit is 8,388,608 bytes"
        in capsys.readouterr().err
    )
