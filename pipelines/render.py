"""Campaigns rendered for people (markdown).

Contract: everything in a campaign that a model, a brand folder or a file name supplied is untrusted
text. :func:`md_text` escapes it so that a markdown renderer shows it as the words it is: no HTML (tags,
``<img onerror=…>``), no links or images, no code spans, emphasis or headings it did not mean to make.
Only the renderer's own structure (headings, labels, list items) is markup.
"""

from __future__ import annotations

import re

from agents.state import Campaign

# Markdown's inline punctuation; "&", "<" and ">" become HTML entities instead (a backslash does not stop
# every renderer from reading "<img" as HTML).
_INLINE = re.compile(r"([\\`*_\[\]|~])")
# What starts a block at the beginning of a line: a heading, list item, rule or setext underline, or an
# ordered-list number (whose "." or ")" is what gets escaped).
_URL_START = re.compile(r"[a-z][a-z0-9+.-]{0,20}://|\bwww\.", re.IGNORECASE)
_LINE_START = re.compile(r"^([ \t]*)(?:([#+=-])|(\d{1,9})([.)]))", re.MULTILINE)


def md_text(text: str) -> str:
    """``text`` escaped for markdown: shown literally by CommonMark and GitHub renderers. Leading
    indentation is dropped (four spaces would make a code block)."""
    text = "\n".join(line.lstrip(" \t") for line in text.split("\n"))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(
        lambda m: m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\" + m.group(4)), text
    )


def defanged(text: str) -> str:
    """``text`` with its URLs made unclickable ("https[:]//evil.example", "www[.]evil.example"), the
    usual way to quote a link that must not be followed: findings quote the links they stripped, and
    GitHub-flavoured renderers would turn a bare URL back into a link."""
    return _URL_START.sub(lambda m: m.group().replace("://", "[:]//").replace("www.", "www[.]"), text)


def campaign_to_markdown(campaign: Campaign) -> str:
    """A readable version of a campaign for people; every supplied text goes through :func:`md_text`."""
    e = md_text
    lines = [f"# {e(campaign.brand.name)} — {e(campaign.brand.positioning)}", ""]
    if campaign.brief:
        lines += [
            "## Brief",
            "",
            f"**Audience insight:** {e(campaign.brief.audience_insight)}",
            "",
            f"**Tone:** {e(campaign.brief.tone)}",
            "",
            "**Key messages:**",
            "",
        ]
        lines += [
            f"- {e(m.text)} ({e(', '.join(m.citations)) or 'no citation'})"
            for m in campaign.brief.key_messages
        ]
        lines.append("")
    for piece in campaign.pieces:
        lines += [f"## {e(piece.channel)} — {piece.compliance.verdict}", ""]
        if piece.scorecard:
            card = piece.scorecard
            groups = ", ".join(f"{name} {g.passed}/{g.applied}" for name, g in card.groups.items())
            failing = sorted({check for g in card.groups.values() for check in g.failed})
            lines += [f"Scorecard: {card.passed}/{card.applied} checks passed ({card.score:.0%}): {groups}"]
            if failing:
                lines += ["", "Fails: " + ", ".join(e(c) for c in failing)]
            lines.append("")
        for name, text in piece.fields.items():
            lines += [f"**{e(name)}:**", "", e(text), ""]
        if piece.citations:
            lines += ["Citations: " + ", ".join(e(c) for c in piece.citations), ""]
        for f in piece.compliance.findings:
            state = "fixed" if f.fixed else f.severity
            lines.append(f"- \\[{state}\\] {e(f.rule_id)}: {e(defanged(f.explanation))}")
        lines.append("")
    if campaign.quarantined:
        lines += [
            "## Withheld passages",
            "",
            "Instruction-like text; these passages never reached the model:",
            "",
        ]
        lines += [f"- {e(q.id)} ({e(q.where)}): {e(defanged(q.matched))}" for q in campaign.quarantined]
        lines.append("")
    s = campaign.stats
    lines += [
        "---",
        f"{s.llm_calls} model calls, {s.prompt_tokens} prompt + {s.completion_tokens} generated tokens, "
        f"{s.seconds:.1f} s ({e(campaign.backend)}: {e(campaign.model)})",
        "",
    ]
    return "\n".join(lines)
