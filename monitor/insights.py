"""What a monitoring run writes: one :class:`MentionResult` per mention, and :class:`Insights` across them.

Contract: these models are the files' format. ``RUN_DIR/mentions.jsonl`` holds one
:class:`MentionResult` per line, ``RUN_DIR/insights.json`` one :class:`Insights`, whose JSON Schema is
``docs/monitor-insights.schema.json`` (regenerate with ``brandforge schema insights``). Every text in
them is masked (monitor.privacy). :func:`load_insights` is how a campaign reads an insights file back:
validated, with a clear error naming the file and field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.errors import InputError
from core.files import read_regular_file
from core.yamlio import validate_model

Sentiment = Literal["positive", "negative", "neutral"]
MAX_INSIGHTS_BYTES = 64 * 1024 * 1024


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MentionResult(_Out):
    """One line of ``mentions.jsonl``."""

    id: str
    time: str = Field(description="ISO 8601, in the run's time zone.")
    day: str = Field(description="The calendar day (YYYY-MM-DD) in the run's time zone.")
    source: str
    author: str | None = None
    url: str | None = None
    rating: float | None = None
    text: str = Field(description="The mention's text, personal data masked.")
    masked: list[str] = Field(default_factory=list, description="Kinds of personal data masked, in order.")
    language: str = Field(description="zh, en or other.")
    sentiment: Sentiment
    score: float = Field(ge=-1, le=1, description="Polarity: P(positive) - P(negative).")
    confidence: float = Field(ge=0, le=1, description="Probability of the sentiment given.")
    sentiment_by: Literal["classifier", "model"] = Field(
        description="'model' where the classifier was unsure and the language model decided."
    )
    aspects: list[str] = Field(default_factory=list)
    brands: list[str] = Field(default_factory=list, description="Tracked brands it names: canonical names.")
    topic: int = Field(description="Topic id; -1 for none.")


class Counts(_Out):
    positive: int = 0
    negative: int = 0
    neutral: int = 0

    @property
    def total(self) -> int:
        return self.positive + self.negative + self.neutral


class DaySentiment(Counts):
    day: str
    mentions: int


class AspectSentiment(Counts):
    aspect: str
    mentions: int
    net: float = Field(description="(positive - negative) / mentions.")


class BrandVoice(Counts):
    brand: str
    mentions: int = Field(description="Mentions naming the brand (one mention may name several).")
    share: float = Field(description="Its share of all brand mentions.")
    own: bool = Field(description="True for the monitored brand.")


class Topic(Counts):
    id: int
    label: str = Field(description="A short label: written by the model, or the topic's terms.")
    label_by: Literal["model", "terms"]
    terms: list[str] = Field(description="The words most particular to the topic.")
    size: int
    share: float
    net: float
    aspects: list[str] = Field(description="Its most frequent aspects.")
    examples: list[str] = Field(description="Ids of the mentions nearest its centre.")
    first_day: str
    last_day: str
    recent: int = Field(description="Mentions in the last `emerging_window_days` days of the period.")
    emerging: bool


class Alert(_Out):
    kind: Literal["volume_spike", "negative_spike"]
    day: str
    count: int
    baseline_mean: float
    baseline_sd: float
    threshold: float
    rule: str = Field(description="The rule that fired, with its thresholds.")
    topics: list[int] = Field(description="Topics with most mentions that day, largest first.")
    aspects: list[str] = Field(description="Aspects most named that day.")
    examples: list[str] = Field(description="Ids of mentions from that day (negative ones first).")


class Highlight(_Out):
    id: str
    text: str
    topic: int
    score: float
    aspects: list[str]
    day: str


class Method(_Out):
    sentiment: str = Field(description="How sentiment was read, in words.")
    classifier: str = Field(description="The classifier's file and fingerprint.")
    model: str | None = Field(description="The language model asked when the classifier was unsure.")
    uncertain_below: dict[str, float] = Field(
        description="Classifier confidence under which the model was asked, per language."
    )
    uncertain: int = Field(description="Mentions the classifier was unsure of.")
    model_decided: int = Field(description="Of those, mentions the model decided.")
    embedder: str
    topics: str
    alerts: list[str] = Field(description="The alert rules, stated.")
    emerging: str


class Period(_Out):
    start: str
    end: str
    days: int
    timezone: str


class Totals(_Out):
    mentions: int
    bad_lines: int
    by_language: dict[str, int]
    by_source: dict[str, int]
    ignored_fields: dict[str, int] = Field(description="Input keys or columns that map to no field.")


class Insights(_Out):
    """``insights.json``: what a brand manager, the strategist and customer service act on."""

    schema_version: Literal[1] = 1
    brand: str
    generated_at: str
    period: Period
    totals: Totals
    method: Method
    share_of_voice: list[BrandVoice]
    sentiment: Counts
    sentiment_by_day: list[DaySentiment]
    sentiment_by_aspect: list[AspectSentiment]
    topics: list[Topic]
    emerging_topics: list[int]
    alerts: list[Alert]
    top_praise: list[Highlight]
    top_complaints: list[Highlight]


def insights_json_schema() -> str:
    return json.dumps(Insights.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


def load_insights(path: str | Path) -> Insights:
    """Read an insights file written by ``brandforge monitor``; any problem names the file and field."""
    path = Path(path)
    raw = read_regular_file(path, MAX_INSIGHTS_BYTES, what="insights file (insights.json)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"not a JSON file ({exc}); expected insights.json from brandforge monitor", source=path
        ) from None
    return validate_model(data, Insights, path)
