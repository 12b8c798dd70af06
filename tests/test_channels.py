"""Channel specs: CJK-aware counting, limits, last-resort trimming, user channels."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.channels import (
    ChannelSpec,
    count_chars,
    count_words,
    fit_to_limit,
    load_channels,
    resolve_channels,
    zh_chars,
)
from core.errors import InputError

pytestmark = pytest.mark.unit


def test_builtin_channels_and_limits() -> None:
    ch = load_channels()
    assert {"search_ad", "social_post", "email", "blog", "cs_reply"} <= set(ch)
    ad = ch["search_ad"]
    assert [f.max_chars for f in ad.fields] == [30, 30, 30, 90, 90]
    assert ch["social_post"].fields[0].max_hashtags == 3
    assert ch["email"].field("subject").max_chars == 60 and ch["email"].field("preheader").max_chars == 90
    assert (ch["blog"].field("body").min_words, ch["blog"].field("body").max_words) == (300, 600)
    assert ch["cs_reply"].inputs == ["question"]


def test_counting_cjk() -> None:
    assert count_chars("探索未知，发现美丽") == 9
    # Chinese counts 1.5 characters to the word (ZH_CHARS_PER_WORD): a word limit means as much text.
    assert count_words("探索未知 with Wanderly") == 2 + 2
    assert count_words("两个字") == 2 and count_words("四个汉字") == 2
    assert count_words("two words") == 2
    assert zh_chars(300) == 450


@pytest.mark.parametrize(
    "text,limit,expected",
    [
        ("Fresh coffee. Roasted in small batches every single day", 30, "Fresh coffee."),
        ("Roasted in small batches every single day", 30, "Roasted in small batches"),
        ("探索未知，发现美丽：Wanderly带你开启一段难忘的旅行之旅", 30, "探索未知，发现美丽"),
    ],
)
def test_fit_to_limit_cuts_at_boundaries(text: str, limit: int, expected: str) -> None:
    spec = load_channels()["search_ad"].fields[0].model_copy(update={"max_chars": limit})
    out = fit_to_limit(text, spec)
    assert out == expected and count_chars(out) <= limit


def test_fit_to_limit_drops_extra_hashtags() -> None:
    spec = load_channels()["social_post"].fields[0]
    assert fit_to_limit("Go now #a #b #c #d", spec) == "Go now #a #b #c"


def test_user_channel_overrides_and_adds(tmp_path: Path) -> None:
    (tmp_path / "sms.yaml").write_text(
        "name: sms\ndescription: text message\nfields:\n  - {name: text, "
        "description: the sms, max_chars: 70}\n"
    )
    ch = load_channels(tmp_path)
    assert ch["sms"].fields[0].max_chars == 70 and "blog" in ch


def test_bad_channel_yaml(tmp_path: Path) -> None:
    (tmp_path / "sms.yaml").write_text(
        "name: sms\ndescription: x\nfields:\n  - {name: text, description: y, max_chars: -1}\n"
    )
    with pytest.raises(InputError, match=r"(?s)sms\.yaml.*fields\[0\]\.max_chars"):
        load_channels(tmp_path)


def test_unknown_channel_lists_choices() -> None:
    with pytest.raises(InputError, match=r"unknown channel 'tiktok'; valid choices: \['blog'"):
        resolve_channels(["tiktok"], load_channels(), "brand.yaml")


def test_channel_files_parse_once_until_changed(tmp_path: Path) -> None:
    import os

    path = tmp_path / "sms.yaml"
    path.write_text("name: sms\ndescription: a\nfields:\n  - {name: text, description: t, max_chars: 70}\n")
    first = load_channels(tmp_path)["sms"]
    assert load_channels(tmp_path)["sms"] is first  # parsed once
    path.write_text("name: sms\ndescription: b\nfields:\n  - {name: text, description: t, max_chars: 60}\n")
    os.utime(path, ns=(1, 10**18))  # a different mtime even on coarse-clock filesystems
    assert load_channels(tmp_path)["sms"].fields[0].max_chars == 60


def test_channel_json_schema_shipped_is_current() -> None:
    """docs/channel.schema.json is what `brandforge schema channel` prints (it had fallen behind by five
    keys: specifics, call_to_action, gives_contacts among them)."""
    import json

    shipped = Path(__file__).parent.parent / "docs" / "channel.schema.json"
    assert json.loads(shipped.read_text()) == ChannelSpec.model_json_schema(), (
        "regenerate: brandforge schema channel > docs/channel.schema.json"
    )
