"""The publishable-copy benchmark (issue 15): campaigns scored piece by piece, runs side by side.

    python bench/quality.py RUN_DIR [RUN_DIR ...] [--labels LABELS.jsonl] [--export PIECES.jsonl]

Each RUN_DIR holds campaign JSONs written by ``bench/quality_runs.py`` (every example brand x seeds, one
code version). Every piece is checked again from scratch, the same way for every run, whatever code wrote
it: the quality checks (:mod:`agents.quality`) and the brand's rules and claim checks against the
campaign's own passages, including the fact binding (:mod:`policy.facts`), and the channel limits: what
the compliance agent decides without a model (:func:`agents.compliance.deterministic_findings`); the
semantic layer and the model judge are left out, so the figures do not depend on a model. Per run it prints:

- pieces, and how many were delivered (verdict pass or revised) and blocked;
- the share of pieces that pass every deterministic check (delivered, and no blocking finding now);
- counts of truncated pieces (ends mid-sentence, mid-phrase, or a cut fragment), missing required terms,
  mixed-language pieces, repeated sentences or phrases (the positioning line included) and
  condition-mismatched figures, over all pieces and over the delivered ones (the targets: zero delivered);
- with ``--labels``, the share judged publishable by the rubric in ``bench/quality_rubric.md``: a piece
  counts when it was delivered and its label says ``publishable``. Labels are written by reviewers who
  see the pieces without knowing which run wrote them (``--export`` writes them in that form: shuffled,
  with opaque ids);
- campaign cost: model calls, generated tokens and wall seconds per campaign.

The last line is the headline: the publishable share (or, without labels, the share passing every
deterministic check), first run against last.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

from agents.channels import load_channels
from agents.compliance import brand_facts, brand_products, checker_for, deterministic_findings
from agents.quality import QualityContext, with_heading
from agents.retriever import QUESTION_PASSAGES
from agents.state import Campaign, Draft
from knowledge.brand import Brand, load_brand
from knowledge.chunking import Passage
from knowledge.embedders import get_embedder
from knowledge.index import FaissKnowledgeIndex, default_index_dir
from policy import PassageEvidence

ROOT = Path(__file__).resolve().parent.parent
BRANDS = ROOT / "examples" / "brands"
CHANNELS = load_channels()
COUNTED = {
    "truncated": ("quality.truncated", "quality.fragment"),
    "missing required term": ("quality.required_term",),
    "mixed language": ("quality.mixed_language",),
    "repetition": ("quality.repetition", "quality.positioning_repeated"),
    "condition-mismatched figure": ("facts.condition_mismatch", "facts.product_mismatch"),
    "another product's feature": ("facts.feature_mismatch",),
    "mixed register (您 / 你)": ("quality.register_mixed",),
}


@dataclass
class Scored:
    run: str
    campaign: str
    channel: str
    verdict: str
    fields: dict[str, str]
    blocking: list[str] = field(default_factory=list)
    context: dict[str, object] = field(default_factory=dict)  # for a blind reviewer: brand, language, inputs

    @property
    def delivered(self) -> bool:
        return self.verdict != "blocked"

    @property
    def key(self) -> str:
        """An opaque id for blind labelling: the same piece text always gets the same id."""
        text = json.dumps([self.channel, self.fields], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def brand_for(name: str) -> Brand:
    for folder in BRANDS.iterdir():
        if (folder / "brand.yaml").is_file():
            brand = load_brand(folder)
            if brand.name == name:
                return brand
    raise SystemExit(f"bench: no example brand is named {name!r}")


def policy_for(campaign: Campaign, brand: Brand, channel: str, embedder: Any) -> list[str]:
    """The campaign passages closest to the channel's inputs (a customer's question), as many as the
    pipeline keeps for it (:data:`QUESTION_PASSAGES`), each list item led by its section's heading from
    the brand's built index, as :func:`agents.quality.policy_passages` gives them to the checks."""
    queries = list(brand.channel_inputs.get(channel, {}).values())
    if not queries or not campaign.passages:
        return []
    scores = embedder.embed(queries) @ embedder.embed([p.text for p in campaign.passages]).T
    best = scores.max(axis=0).argsort()[::-1][:QUESTION_PASSAGES]
    sections = {p.id: p.section for p in _indexed(brand, embedder)}
    return [
        with_heading(campaign.passages[int(i)].text, sections.get(campaign.passages[int(i)].id, ""))
        for i in best
    ]


_INDEXED: dict[Path, tuple[Passage, ...]] = {}


def _indexed(brand: Brand, embedder: Any) -> tuple[Passage, ...]:
    """Every passage of the brand's built index, with its section heading (empty when it is not built),
    loaded once per brand: what the campaign's compliance step reads product sections from."""
    folder = default_index_dir(brand)
    if folder not in _INDEXED:
        built = FaissKnowledgeIndex.read_manifest(folder) is not None
        _INDEXED[folder] = tuple(FaissKnowledgeIndex.load(folder, embedder).all_passages()) if built else ()
    return _INDEXED[folder]


def score_campaign(run: str, label: str, campaign: Campaign, brand: Brand, embedder: Any) -> list[Scored]:
    """Every piece of ``campaign`` checked again (one evidence index and checker for the campaign)."""
    documents = [p.text for p in campaign.passages]
    evidence = PassageEvidence(
        [(p.id, p.text) for p in campaign.passages],
        embedder,
        facts=brand_facts(brand),
        products=brand_products(brand, _indexed(brand, embedder)),
    )
    checker = checker_for(brand, evidence)
    scored = []
    for piece in campaign.pieces:
        policy = policy_for(campaign, brand, piece.channel, embedder)
        channel = CHANNELS[piece.channel]
        context = QualityContext.build(channel, brand, documents, policy=policy)
        # what the compliance agent decides without a model: the quality checks, the checker, the limits
        draft = Draft(channel=piece.channel, fields=dict(piece.fields))
        found = deterministic_findings(checker, channel, draft, context)
        blocking = sorted({f.rule_id for f in found if f.severity == "block"})
        scored.append(
            Scored(
                run,
                label,
                piece.channel,
                piece.compliance.verdict,
                dict(piece.fields),
                blocking,
                {
                    "brand": brand.name,
                    "language": brand.language,
                    "inputs": brand.channel_inputs.get(piece.channel, {}),
                },
            )
        )
    return scored


def load_run(folder: Path, embedder: Any) -> tuple[list[Scored], list[Campaign]]:
    scored, campaigns = [], []
    brands: dict[str, Brand] = {}
    for path in sorted(folder.glob("*.json")):
        campaign = Campaign.model_validate_json(path.read_text(encoding="utf-8"))
        campaigns.append(campaign)
        name = campaign.brand.name
        if name not in brands:
            brands[name] = brand_for(name)
        scored += score_campaign(folder.name, path.stem, campaign, brands[name], embedder)
    return scored, campaigns


def table(runs: dict[str, tuple[list[Scored], list[Campaign]]], labels: dict[str, bool]) -> list[str]:
    names = list(runs)
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, values: list[str]) -> None:
        rows.append((label, values))

    def share(n: int, d: int) -> str:
        return f"{n}/{d} ({n / d:.0%})" if d else "n/a"

    pieces = {n: runs[n][0] for n in names}
    row("campaigns", [str(len(runs[n][1])) for n in names])
    row("pieces", [str(len(pieces[n])) for n in names])
    row(
        "delivered (pass or revised)",
        [share(sum(p.delivered for p in pieces[n]), len(pieces[n])) for n in names],
    )
    row(
        "pass every deterministic check",
        [share(sum(p.delivered and not p.blocking for p in pieces[n]), len(pieces[n])) for n in names],
    )
    if labels:
        row(
            "publishable (rubric, blind labels)",
            [
                share(sum(p.delivered and labels.get(p.key, False) for p in pieces[n]), len(pieces[n]))
                for n in names
            ],
        )
        unlabelled = [sum(p.delivered and p.key not in labels for p in pieces[n]) for n in names]
        row("  delivered pieces without a label", [str(u) for u in unlabelled])
    for what, rules in COUNTED.items():
        row(
            f"{what}: all / delivered",
            [
                f"{sum(any(r in p.blocking for r in rules) for p in pieces[n])} / "
                f"{sum(p.delivered and any(r in p.blocking for r in rules) for p in pieces[n])}"
                for n in names
            ],
        )
    row("model calls per campaign", [f"{fmean(c.stats.llm_calls for c in runs[n][1]):.1f}" for n in names])
    row(
        "generated tokens per campaign",
        [f"{fmean(c.stats.completion_tokens for c in runs[n][1]):.0f}" for n in names],
    )
    row("wall s per campaign", [f"{fmean(c.stats.seconds for c in runs[n][1]):.0f}" for n in names])
    width = max(len(label) for label, _ in rows)
    cols = [max(len(n), *(len(v[i]) for _, v in rows)) for i, n in enumerate(names)]
    out = [f"{'':<{width}}  " + "  ".join(f"{n:>{cols[i]}}" for i, n in enumerate(names))]
    out += [
        f"{label:<{width}}  " + "  ".join(f"{v:>{cols[i]}}" for i, v in enumerate(values))
        for label, values in rows
    ]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--labels", type=Path, help="JSONL of {id, publishable, reason} from blind review")
    parser.add_argument("--export", type=Path, help="write the delivered pieces, shuffled, for blind review")
    parser.add_argument("--failures", action="store_true", help="list each piece's blocking findings")
    args = parser.parse_args()
    embedder = get_embedder("use-multilingual")
    runs = {folder.name: load_run(folder, embedder) for folder in args.runs}
    labels: dict[str, bool] = {}
    if args.labels:
        for line in args.labels.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                labels[item["id"]] = item["publishable"] is True
    if args.export:
        seen: dict[str, dict[str, object]] = {}
        for scored, _ in runs.values():
            for p in scored:
                if p.delivered:
                    seen.setdefault(
                        p.key, {**p.context, "id": p.key, "channel": p.channel, "fields": p.fields}
                    )
        items = list(seen.values())
        random.Random(15).shuffle(items)
        args.export.write_text(
            "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8"
        )
        print(f"wrote {len(items)} delivered pieces for blind review to {args.export}")
    if args.failures:
        for scored, _ in runs.values():
            for p in scored:
                if p.blocking:
                    print(f"{p.run} {p.campaign} {p.channel} ({p.verdict}): {', '.join(p.blocking)}")
        print()
    for line in table(runs, labels):
        print(line)
    first, last = runs[args.runs[0].name][0], runs[args.runs[-1].name][0]

    def headline(pieces: list[Scored]) -> float:
        if labels:
            return sum(p.delivered and labels.get(p.key, False) for p in pieces) / len(pieces)
        return sum(p.delivered and not p.blocking for p in pieces) / len(pieces)

    what = "publishable (rubric)" if labels else "passing every deterministic check"
    before, after = args.runs[0].name, args.runs[-1].name
    print(f"pieces {what}: {before} {headline(first):.0%} -> {after} {headline(last):.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
