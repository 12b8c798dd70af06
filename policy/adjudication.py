"""Model adjudication of the sentences the rules and the semantic layer cannot settle.

Contract: the checker (:class:`~policy.checker.ComplianceChecker`) collects a :class:`Question` for every
sentence whose semantic score falls in a category's uncertain band, and for every sentence where a rule
and the semantic layer disagree (a rule hit the classifier scores as clean). An :class:`Adjudicator`
answers each question with a :class:`Ruling` — violation or not, the category, the offending words as
they appear in the sentence, and a one-line rationale — in the order asked. The policy package only
defines this seam; the model-backed adjudicator lives in :mod:`agents.judge` (policy may not import
backends or prompts), and tests use any object with an ``adjudicate`` method.

Questions and rulings are plain data: a sentence, the candidate categories with their scores, the rule
ids that fired. An adjudicator that cannot answer one question (a model error, an unparseable answer)
returns ``None`` in its place; the checker then keeps what the rules and classifier decided and says so.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True)
class Question:
    """One sentence to adjudicate."""

    sentence: str
    locale: str
    candidates: dict[str, float]
    """Categories under question and the semantic layer's score for each (0..1)."""
    rule_ids: tuple[str, ...] = ()
    """Rules that fired in the sentence (empty when only the semantic layer is unsure)."""
    reason: Literal["uncertain", "disagreement"] = "uncertain"

    def __hash__(self) -> int:  # candidates is a dict: hash what identifies the question
        return hash((self.sentence, self.locale, tuple(sorted(self.candidates)), self.rule_ids, self.reason))


@dataclass(frozen=True)
class Ruling:
    """The adjudicator's answer for one question."""

    violation: bool
    category: str | None
    """One of the question's candidate categories when ``violation``; else ``None``."""
    rationale: str
    span_text: str | None = None
    """The offending words, copied from the sentence (``None``: the whole sentence)."""
    extra: dict[str, str] = field(default_factory=dict)
    """Provenance to show a reviewer (e.g. prompt id and version, model)."""


class Adjudicator(Protocol):
    def adjudicate(self, questions: list[Question]) -> list[Ruling | None]:
        """One ruling (or ``None`` when it could not decide) per question, in order."""
        ...


class Remembering:
    """An adjudicator that asks ``inner`` each distinct question once and remembers its ruling.

    A campaign checks a piece several times (before and after each revision, then once more after the
    last-resort fixes): a sentence that did not change is not put to the model again. Safe to share
    between the threads of a channel fan-out; ``None`` rulings are not remembered (asked again next time).
    """

    def __init__(self, inner: Adjudicator) -> None:
        self.inner = inner
        self._known: dict[Question, Ruling] = {}
        self._lock = threading.Lock()

    def adjudicate(self, questions: list[Question]) -> list[Ruling | None]:
        with self._lock:
            new = list(dict.fromkeys(q for q in questions if q not in self._known))
        answers = self.inner.adjudicate(new) if new else []
        with self._lock:
            for question, ruling in zip(new, answers, strict=True):
                if ruling is not None:
                    self._known[question] = ruling
            fresh = dict(zip(new, answers, strict=True))
            return [self._known.get(q, fresh.get(q)) for q in questions]
