"""From monitoring to a campaign: the insights a strategist and customer service act on.

Contract: :func:`voices_from` turns an :class:`~monitor.insights.Insights` into at most
:data:`MAX_VOICES` :class:`~agents.state.CustomerVoice` notes, in this order: the negative-spike alerts
(newest first, at most 2), the top complaints from distinct topics (at most 3, the topic's size and
negative share stated), the top praise from distinct topics (at most 2). A complaint (praise) is taken
only from a topic at least :data:`MIN_TOPIC_LEANING` negative (positive): one unhappy question in a
topic of neutral questions is not a trend. Each note's id is citable in the
brief (``mention:ID`` for a quoted mention, ``alert:DAY`` for an alert). :func:`current_complaint` is the
complaint customer service answers: the first complaint's text. Texts are the masked ones; a note is at
most :data:`MAX_NOTE_CHARS` characters so a dozen of them cost little context.
"""

from __future__ import annotations

from agents.state import CustomerVoice
from core.errors import InputError
from knowledge.brand import Brand
from monitor.insights import Highlight, Insights, Topic

MAX_VOICES = 7
MIN_TOPIC_LEANING = 0.3
MAX_NOTE_CHARS = 320
MAX_QUOTE_CHARS = 200


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1] + "…"


def _leaning(topic: Topic, kind: str) -> float:
    """The share of the topic's mentions that go the note's way (negative for a complaint)."""
    count = topic.negative if kind == "complaint" else topic.positive
    return count / topic.size if topic.size else 0.0


def _share(topic: Topic) -> int:
    return round(100 * topic.negative / topic.size) if topic.size else 0


def voices_from(insights: Insights) -> list[CustomerVoice]:
    doc = f"insights.json ({insights.period.start} - {insights.period.end})"
    zh = insights.totals.by_language.get("zh", 0) >= insights.totals.by_language.get("en", 0)
    topics = {t.id: t for t in insights.topics}
    notes: list[CustomerVoice] = []
    quotes = {h.id: h for h in (*insights.top_complaints, *insights.top_praise)}
    for alert in sorted(
        (a for a in insights.alerts if a.kind == "negative_spike"), key=lambda a: a.day, reverse=True
    )[:2]:
        labels = ", ".join(topics[t].label for t in alert.topics[:2] if t in topics)
        example = next((quotes[i].text for i in alert.examples if i in quotes), "")
        if zh:
            text = f"预警：{alert.day} 负面提及 {alert.count} 条（此前 7 天日均 {alert.baseline_mean}）"
            text += f"；话题：{labels}" if labels else ""
        else:
            text = (
                f"Alert: {alert.count} negative mentions on {alert.day} "
                f"(previous 7-day daily mean {alert.baseline_mean})"
            )
            text += f"; topics: {labels}" if labels else ""
        if example:
            text += f"。例：「{_quote(example)}」" if zh else f'. Example: "{_quote(example)}"'
        notes.append(
            CustomerVoice(id=f"alert:{alert.day}", kind="alert", text=text[:MAX_NOTE_CHARS], doc=doc)
        )

    def add(highlights: list[Highlight], kind: str, limit: int) -> None:
        seen: set[int] = set()
        for h in highlights:
            if len([n for n in notes if n.kind == kind]) >= limit:
                return
            if h.topic in seen:
                continue
            topic = topics.get(h.topic)
            if topic is not None and _leaning(topic, kind) < MIN_TOPIC_LEANING:
                continue  # a complaint from a topic customers mostly like is not the trend to answer
            seen.add(h.topic)
            if zh:
                what = "顾客投诉" if kind == "complaint" else "顾客好评"
                context = (
                    f"（话题「{topic.label}」，本期 {topic.size} 条，{_share(topic)}% 负面"
                    f"{'，上升中' if topic.emerging else ''}）"
                    if topic
                    else ""
                )
                text = f"{what}{context}：「{_quote(h.text)}」"
            else:
                what = "Customer complaint" if kind == "complaint" else "Customer praise"
                context = (
                    f' (topic "{topic.label}", {topic.size} mentions this period, {_share(topic)}% negative'
                    f"{', rising' if topic.emerging else ''})"
                    if topic
                    else ""
                )
                text = f'{what}{context}: "{_quote(h.text)}"'
            notes.append(CustomerVoice(id=f"mention:{h.id}", kind=kind, text=text[:MAX_NOTE_CHARS], doc=doc))  # type: ignore[arg-type]

    add(insights.top_complaints, "complaint", 3)
    add(insights.top_praise, "praise", 2)
    return notes[:MAX_VOICES]


def current_complaint(insights: Insights) -> str | None:
    """The complaint customer service answers in this campaign, or None: one from the newest negative
    spike's main topic when there is a spike, else the top complaint."""
    spikes = sorted((a for a in insights.alerts if a.kind == "negative_spike"), key=lambda a: a.day)
    if spikes and spikes[-1].topics:
        for h in insights.top_complaints:
            if h.topic == spikes[-1].topics[0]:
                return _quote(h.text)
    return _quote(insights.top_complaints[0].text) if insights.top_complaints else None


def with_insights(brand: Brand, insights: Insights, channels: list[str]) -> tuple[Brand, list[CustomerVoice]]:
    """The campaign's brand and notes for ``insights``: InputError when they are another brand's; with a
    customer-service channel, its question becomes the current complaint."""
    if insights.brand != brand.name:
        raise InputError(
            f"the insights are for {insights.brand!r}, not {brand.name!r}; "
            "run brandforge monitor with this brand",
            field="insights",
        )
    complaint = current_complaint(insights)
    if complaint and "cs_reply" in channels:
        inputs = {**brand.channel_inputs, "cs_reply": {"question": complaint}}
        brand = brand.model_copy(update={"channel_inputs": inputs})
    return brand, voices_from(insights)
