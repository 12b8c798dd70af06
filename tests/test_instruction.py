"""A campaign's instruction from the brand team (``run_campaign(instruction=)``, ``--instruction``, the
service's ``instruction``, the studio's form): it reaches the strategist's prompt, is recorded on the
campaign and shown in the report, and bad input is refused before any work. With no instruction the
strategist's prompt is the same text as before (recorded eval answers still apply)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.roles import BriefInputs
from backends.fake import FakeBackend, FakeConfig
from core.errors import InputError
from knowledge.brand import load_brand
from pipelines import cli, run_campaign
from pipelines.report import campaign_html
from prompts.registry import default_registry
from tests.conftest import MINI_BRAND, MINI_DOCS, write_brand

pytestmark = pytest.mark.unit


def recording() -> tuple[FakeBackend, list[str]]:
    seen: list[str] = []

    def script(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> dict[str, Any] | None:
        seen.append("\n".join(str(m.get("content", "")) for m in messages))
        return None

    return FakeBackend(FakeConfig(), script=script), seen


def test_the_instruction_reaches_the_strategist_and_is_recorded(tmp_path: Path) -> None:
    brand = write_brand(tmp_path / "b", MINI_BRAND, MINI_DOCS)
    llm, seen = recording()
    campaign = run_campaign(
        brand,
        channels=["social_post"],
        llm=llm,
        index_dir=tmp_path / "idx",
        instruction="Lead with the\nsubscription\x00 offer",
    )
    assert campaign.instruction == "Lead with the subscription offer"  # one line, no control characters
    first = seen[0]
    assert 'never state a fact they do not give): "Lead with the subscription offer"' in first
    assert "strategist.brief@5" in {t.prompt for t in campaign.trace}
    assert "Lead with the subscription offer" in campaign_html(campaign)
    plain, seen_plain = recording()
    assert (
        run_campaign(brand, channels=["social_post"], llm=plain, index_dir=tmp_path / "idx").instruction == ""
    )
    assert "instruction for this campaign" not in seen_plain[0]


def test_without_an_instruction_the_prompt_is_the_previous_versions_text() -> None:
    from agents.channels import load_channels

    brand = load_brand(Path(__file__).resolve().parent.parent / "examples/brands/wanderly")
    channels = list(load_channels().values())
    inputs = BriefInputs(brand=brand, channels=channels, language_name="Chinese").variables()
    registry = default_registry()
    v2 = registry.get("strategist.brief@2").render(**inputs)
    assert registry.get("strategist.brief@4").render(**inputs) == v2
    assert registry.get("strategist.brief@5").render(**inputs) == v2  # without insights too


def test_a_long_instruction_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    brand = write_brand(tmp_path / "b", MINI_BRAND, MINI_DOCS)
    with pytest.raises(InputError, match="at most 500"):
        run_campaign(brand, llm=FakeBackend(FakeConfig()), instruction="x" * 501)
    assert not (brand / ".brandforge").exists()  # nothing was indexed
    code = cli.main(["campaign", str(brand), "--backend", "fake", "-q", "--instruction", "y" * 600])
    assert (
        code == 2
        and "instruction: the instruction has 600 characters; at most 500" in capsys.readouterr().err
    )
    out = tmp_path / "c.json"
    code = cli.main(
        ["campaign", str(brand), "--backend", "fake", "-q", "--channels", "social_post", "--out", str(out),
         "--instruction", "spring"]
    )  # fmt: skip
    assert code in (0, 1) and '"instruction": "spring"' in out.read_text(encoding="utf-8")
