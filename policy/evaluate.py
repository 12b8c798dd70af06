"""Measure a checker on a labelled corpus: precision and recall of ``block``, per category.

Contract: a corpus is a YAML file (see ``tests/data/compliance_corpus.yaml``) with ``profiles`` — a
brand's terms, allowed hosts and contacts, and ``evidence`` passages — and ``cases``, each a text with
its ``locale``, optional ``industry`` and ``profile``, a gold ``category`` and ``expect: block|pass``.
:func:`evaluate` runs every case through the same :class:`~policy.ComplianceChecker` a campaign
uses and returns a :class:`Report`; ``bench/compliance.py`` prints it and the tests hold it to a floor.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.yamlio import load_model
from knowledge.brand import Brand, BrandCompliance
from policy.adjudication import Adjudicator
from policy.checker import ComplianceChecker, verdict_of
from policy.claims import Embedder, PassageEvidence
from policy.findings import ComplianceFinding
from policy.rules import language_of, load_policy
from policy.semantic import SemanticLayer


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Profile(_Strict):
    locale: str
    industry: str = "general"
    competitors: list[str] = Field(default_factory=list)
    banned_terms: list[str] = Field(default_factory=list)
    required_terms: list[str] = Field(default_factory=list)
    allowed_hosts: list[str] = Field(default_factory=list)
    allowed_contacts: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)


class Case(_Strict):
    text: str
    locale: str
    industry: str | None = None
    profile: str | None = None
    category: str
    expect: Literal["block", "pass"]
    tags: list[str] = Field(default_factory=list)
    note: str | None = None


class Corpus(_Strict):
    version: int = 1
    description: str = ""
    profiles: dict[str, Profile] = Field(default_factory=dict)
    cases: list[Case]


@dataclass
class Outcome:
    case: Case
    predicted: Literal["block", "pass"]
    findings: list[ComplianceFinding]

    @property
    def correct(self) -> bool:
        return self.predicted == self.case.expect


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, expect: str, predicted: str) -> None:
        if expect == "block":
            self.tp += predicted == "block"
            self.fn += predicted != "block"
        else:
            self.fp += predicted == "block"
            self.tn += predicted != "block"

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def false_block(self) -> float:
        """Share of clean cases blocked."""
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


@dataclass
class Report:
    outcomes: list[Outcome]
    by_category: dict[str, Score] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)
    evasion: Score = field(default_factory=Score)
    by_language: dict[str, Score] = field(default_factory=dict)
    seconds: float = 0.0

    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]

    def table(self) -> str:
        head = ("category", "n", "block", "TP", "FP", "FN", "precision", "recall", "false-block")
        lines = ["{:20} {:>4} {:>5} {:>4} {:>4} {:>4} {:>9} {:>7} {:>11}".format(*head)]
        rows = [
            *sorted(self.by_category.items()),
            ("evasion (tagged)", self.evasion),
            *((f"language {lang}", score) for lang, score in sorted(self.by_language.items())),
            ("OVERALL", self.overall),
        ]
        for name, s in rows:
            lines.append(
                f"{name:20} {s.n:>4} {s.tp + s.fn:>5} {s.tp:>4} {s.fp:>4} {s.fn:>4} "
                f"{s.precision:>9.3f} {s.recall:>7.3f} {s.false_block:>11.3f}"
            )
        return "\n".join(lines)


def load_corpus(path: Path) -> Corpus:
    return load_model(path, Corpus)


def _brand(name: str, profile: Profile) -> Brand:
    return Brand(
        name=name,
        positioning=name,
        locale=profile.locale,
        industry=profile.industry,
        banned_terms=profile.banned_terms,
        competitors=profile.competitors,
        required_terms=profile.required_terms,
        compliance=BrandCompliance(
            allowed_hosts=profile.allowed_hosts, allowed_contacts=profile.allowed_contacts
        ),
    )


def evaluate(
    corpus: Corpus,
    embedder: Embedder,
    progress: Callable[[int, int], None] | None = None,
    *,
    semantic: SemanticLayer | None = None,
    adjudicator: Adjudicator | None = None,
) -> Report:
    """Check every case (claims against its profile's evidence) and score ``block`` decisions.

    ``semantic`` and ``adjudicator`` are the checker's second and third layers (none: rules only), as
    ``brandforge check`` builds them."""

    @functools.cache
    def checker(locale: str, industry: str | None, profile: str | None) -> ComplianceChecker:
        if profile is None:
            policy = load_policy(locale, industry)
            return ComplianceChecker(policy, semantic=semantic, adjudicator=adjudicator)
        prof = corpus.profiles[profile]
        brand = _brand(profile, prof)
        evidence = PassageEvidence(
            [(f"{profile}#{n}", text) for n, text in enumerate(prof.evidence)], embedder
        )
        policy = load_policy(locale, industry or prof.industry, brand)
        return ComplianceChecker(policy, evidence, semantic=semantic, adjudicator=adjudicator)

    report = Report(outcomes=[])
    started = time.perf_counter()
    for n, case in enumerate(corpus.cases):
        findings = checker(case.locale, case.industry, case.profile).check(case.text)
        predicted: Literal["block", "pass"] = "block" if verdict_of(findings) == "block" else "pass"
        report.outcomes.append(Outcome(case, predicted, findings))
        report.by_category.setdefault(case.category, Score()).add(case.expect, predicted)
        report.overall.add(case.expect, predicted)
        if "evasion" in case.tags:
            report.evasion.add(case.expect, predicted)
        report.by_language.setdefault(language_of(case.locale), Score()).add(case.expect, predicted)
        if progress:
            progress(n + 1, len(corpus.cases))
    report.seconds = time.perf_counter() - started
    return report
