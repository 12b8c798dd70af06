"""What a compliance check reports: :class:`ComplianceFinding` and the passages behind a claim.

These are the policy engine's results, used by ``brandforge check`` on its own, by the compliance agent
(which stores them on a piece) and by everything that shows a piece to a person. They are plain
pydantic models with ``extra="forbid"``; :mod:`agents.state` re-exports them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


Severity = Literal["block", "warn"]
Layer = Literal["rules", "semantic", "judge"]


class EvidenceRef(_Model):
    """A passage considered for a claim, and how close it was."""

    passage: str = Field(description="Passage id.")
    score: float = Field(description="Cosine similarity to the claim.")
    supports: bool = Field(description="Whether this passage states what the claim needs (e.g. its figures).")


class ComplianceFinding(_Model):
    """One problem found in a piece: what rule, where (field, character span), why, and how to fix it."""

    rule_id: str
    category: str
    severity: Severity
    explanation: str
    field: str | None = None
    span: tuple[int, int] | None = Field(None, description="Character offsets [start, end) in the field.")
    matched: str | None = None
    suggestion: str | None = None
    legal_reference: str | None = None
    evidence: list[EvidenceRef] = Field(
        default_factory=list, description="For claims: the passages considered and which support it."
    )
    fixed: bool = False
    layer: Layer = Field(
        "rules",
        description="What decided it: a rule or detector, the semantic classifiers, or the model judge.",
    )
    score: float | None = Field(
        None, description="The semantic layer's score for this category in this sentence (0..1), when scored."
    )
    rationale: str | None = Field(None, description="The judge's one-line reason, when the judge ruled.")
