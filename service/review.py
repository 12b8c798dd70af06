"""Reviews of delivered pieces: what a reviewer may do to a piece, what an edit is checked against, and
what leaves the studio.

Contract:

- Every piece of a done job (campaign or batch) is a review in ``pending_review`` (opened by
  :meth:`service.store.Store.finish`). A reviewer can
  - **edit** it: the new text is checked again — the brand's compliance checker, the channel's limits and
    the publishable-copy checks, the deterministic checks of the pipeline's last round
    (:func:`recheck`) — and saved with its findings; the piece is ``pending_review`` again;
  - **approve** it: refused while a blocking finding stands (for everyone), and for ``legal`` while any
    compliance or fact finding stands, warnings included (:func:`approval_blockers`);
  - **reject** it, with a reason.
- Every action is one transaction (:meth:`Reviews.apply`): the review row, changed only if its
  ``version`` is still the one the reviewer saw (a stale form is refused, not merged), and an audit row
  with who, role, when, action, reason, the text before and after with their SHA-256, and the model and
  prompt versions of the job. The audit log is append-only in the database (service/store.py).
- Only approved pieces leave: :func:`export_jsonl` (the brand's approved-copy set, one piece a line,
  ready to become training data or ``approved_copy`` knowledge) and :func:`export_csv` (search-ad
  headlines and descriptions under the column names ad editors import; a cell a spreadsheet would run as
  a formula is quoted).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from agents.channels import ChannelSpec
from agents.compliance import deterministic_findings
from agents.quality import QualityContext
from agents.scorecard import check_of
from agents.state import Campaign, Draft
from knowledge.brand import Brand
from policy import ComplianceChecker, verdict_of
from policy.findings import ComplianceFinding
from service.store import JobRecord, Store, audit_log, reviews

Action = Literal["approve", "edit", "reject", "send_back", "revised", "revise_failed"]
LEGAL_GROUPS = frozenset({"compliance", "facts"})
MAX_REASON = 2000


class StaleReview(RuntimeError):
    """The piece changed since the reviewer loaded it."""


@dataclass(frozen=True)
class ReviewRecord:
    id: str
    job_id: str
    item: str
    position: int
    brand: str
    channel: str
    state: str
    fields: dict[str, str]
    findings: list[ComplianceFinding]
    verdict: str
    version: int
    created_at: float
    updated_at: float
    updated_by: str | None


def _review(row: Any) -> ReviewRecord:
    return ReviewRecord(
        id=row["id"],
        job_id=row["job_id"],
        item=row["item"],
        position=row["position"],
        brand=row["brand"],
        channel=row["channel"],
        state=row["state"],
        fields=json.loads(row["fields"]),
        findings=[ComplianceFinding.model_validate(f) for f in json.loads(row["findings"])],
        verdict=row["verdict"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


def text_hash(fields: dict[str, str]) -> str:
    """SHA-256 of a piece's fields (canonical JSON): what the audit log records of a text."""
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def standing(findings: Iterable[ComplianceFinding]) -> list[ComplianceFinding]:
    return [f for f in findings if not f.fixed]


def approval_blockers(role: str, findings: list[ComplianceFinding]) -> list[str]:
    """Why ``role`` cannot approve a piece with ``findings`` (empty: it can)."""
    live = standing(findings)
    stopping = [f for f in live if f.severity == "block"]
    if role == "legal":
        stopping += [f for f in live if f.severity != "block" and check_of(f)[0] in LEGAL_GROUPS]
    reasons = [
        f"{f.rule_id}{f' “{f.matched}”' if f.matched else ''} ({f.field or 'piece'}): {f.explanation}"
        for f in stopping
    ]
    return list(dict.fromkeys(reasons))


def recheck(
    checker: ComplianceChecker,
    brand: Brand,
    channel: ChannelSpec,
    fields: dict[str, str],
    *,
    campaign: Campaign,
    position: int,
    index: Any,
) -> tuple[list[ComplianceFinding], str]:
    """The findings on a piece's new text (a person's edit, or a revision they asked for) and its verdict
    (``pass`` or ``blocked``): the same deterministic checks as the pipeline's last round, read against the
    campaign's passages and, for a reply, the passages that answer the piece's inputs (``index``). Fields
    the channel does not have are refused (ValueError)."""
    unknown = sorted(set(fields) - {f.name for f in channel.fields})
    if unknown:
        raise ValueError(f"the {channel.name} channel has no field {', '.join(unknown)}")
    original = campaign.pieces[position] if position < len(campaign.pieces) else None
    questions = [q for q in (original.inputs.values() if original else []) if q]
    policy = [h.passage.text for h in index.search_many(questions, k=2)][:2] if questions else []
    draft = Draft(channel=channel.name, fields=fields, citations=[])
    quality = QualityContext.build(channel, brand, [p.text for p in campaign.passages], policy=policy)
    findings = deterministic_findings(checker, channel, draft, quality)
    return findings, "blocked" if verdict_of(findings) == "block" else "pass"


class Reviews:
    """The ``reviews`` table of a :class:`~service.store.Store`, and the decisions on it."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def for_job(self, job_id: str) -> list[ReviewRecord]:
        query = (
            reviews.select().where(reviews.c.job_id == job_id).order_by(reviews.c.item, reviews.c.position)
        )
        with self.engine.connect() as conn:
            return [_review(r) for r in conn.execute(query).mappings()]

    def get(self, review_id: str) -> ReviewRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(reviews.select().where(reviews.c.id == review_id)).mappings().first()
        return _review(row) if row else None

    def counts(self, job_ids: list[str]) -> dict[str, dict[str, int]]:
        """Reviews per state, per job."""
        if not job_ids:
            return {}
        query = (
            sa.select(reviews.c.job_id, reviews.c.state, sa.func.count())
            .where(reviews.c.job_id.in_(job_ids))
            .group_by(reviews.c.job_id, reviews.c.state)
        )
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for job_id, state, n in conn.execute(query):
                out.setdefault(job_id, {})[state] = int(n)
        return out

    def approved(self, brand: str | None = None) -> list[ReviewRecord]:
        query = reviews.select().where(reviews.c.state == "approved").order_by(reviews.c.updated_at)
        if brand is not None:
            query = query.where(reviews.c.brand == brand)
        with self.engine.connect() as conn:
            return [_review(r) for r in conn.execute(query).mappings()]

    def history(self, review_id: str) -> list[dict[str, Any]]:
        """The audit entries of a review, oldest first."""
        query = audit_log.select().where(audit_log.c.target == f"review:{review_id}").order_by(audit_log.c.id)
        with self.engine.connect() as conn:
            return [{**dict(r), "detail": json.loads(r["detail"])} for r in conn.execute(query).mappings()]

    def apply(
        self,
        review: ReviewRecord,
        actor: str,
        role: str,
        action: Action,
        *,
        state: str,
        fields: dict[str, str] | None = None,
        findings: list[ComplianceFinding] | None = None,
        verdict: str | None = None,
        reason: str | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> ReviewRecord:
        """Record ``action`` by ``actor`` (``user:NAME``, or ``model:copywriter`` for a revision) in ``role``:
        the review's new state (and text, findings, verdict) and its audit row, in one transaction.
        :class:`StaleReview` when the review changed since ``review`` was read."""
        now = time.time()
        after = fields if fields is not None else review.fields
        values: dict[str, Any] = {
            "state": state,
            "version": review.version + 1,
            "updated_at": now,
            "updated_by": actor,
        }
        if fields is not None:
            values["fields"] = json.dumps(fields, ensure_ascii=False)
        if findings is not None:
            values["findings"] = json.dumps([f.model_dump(mode="json") for f in findings], ensure_ascii=False)
        if verdict is not None:
            values["verdict"] = verdict
        detail = {
            "role": role,
            "job": review.job_id,
            "item": review.item,
            "channel": review.channel,
            "brand": review.brand,
            "from_state": review.state,
            "to_state": state,
            "reason": reason,
            "before": review.fields,
            "before_sha256": text_hash(review.fields),
            "after": after,
            "after_sha256": text_hash(after),
            "findings_after": [
                f.rule_id for f in standing(findings if findings is not None else review.findings)
            ],
            **(provenance or {}),
        }
        with self.engine.begin() as conn:
            done = conn.execute(
                reviews.update()
                .where(reviews.c.id == review.id, reviews.c.version == review.version)
                .values(**values)
            )
            if not done.rowcount:
                raise StaleReview(f"the {review.channel} piece changed since it was opened; reload it")
            conn.execute(
                audit_log.insert().values(
                    at=now,
                    actor=actor,
                    action=f"review.{action}",
                    target=f"review:{review.id}",
                    detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
                )
            )
        changed = self.get(review.id)
        assert changed is not None
        return changed


def campaign_for(store: Store, job: JobRecord, item: str) -> Campaign:
    """The campaign a review's piece comes from: the job's result, or the batch item's line of it.
    LookupError when the job has no such item."""
    result = store.get_result(job.id) or ""
    if job.kind == "campaign":
        return Campaign.model_validate_json(result)
    for line in result.splitlines():
        record = json.loads(line) if line.strip() else {}
        if isinstance(record, dict) and str(record.get("id")) == item:
            return Campaign.model_validate(record["campaign"])
    raise LookupError(f"the batch has no item {item!r}")


def provenance(campaign: Campaign) -> dict[str, Any]:
    """What made a campaign, for the audit rows of the decisions on its pieces."""
    return {
        "model": campaign.model,
        "backend": campaign.backend,
        "pipeline": campaign.pipeline,
        "prompts": sorted({t.prompt for t in campaign.trace}),
    }


def approved_record(review: ReviewRecord, approval: dict[str, Any] | None) -> dict[str, Any]:
    """One line of the approved-copy set."""
    detail = (approval or {}).get("detail", {})
    return {
        "brand": review.brand,
        "channel": review.channel,
        "fields": review.fields,
        "sha256": text_hash(review.fields),
        "job": review.job_id,
        "item": review.item,
        "review": review.id,
        "approved_by": (approval or {}).get("actor", "").removeprefix("user:"),
        "approved_role": detail.get("role"),
        "approved_at": (approval or {}).get("at"),
        "model": detail.get("model"),
        "prompts": detail.get("prompts"),
    }


def export_jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)


CSV_COLUMNS = [
    "Campaign",
    "Ad group",
    "Ad type",
    "Headline 1",
    "Headline 2",
    "Headline 3",
    "Description 1",
    "Description 2",
]


def _cell(value: str) -> str:
    """A cell as text: one a spreadsheet would evaluate (=, +, -, @, tab, CR first) gets a leading quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(approved: list[ReviewRecord]) -> str:
    """The approved search ads as rows for an ad editor's import (other channels are not ads)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in approved:
        if r.channel != "search_ad":
            continue
        f = r.fields
        writer.writerow(
            [
                _cell(r.brand),
                _cell(f"{r.job_id[:8]}{'-' + r.item if r.item else ''}"),
                "Responsive search ad",
                *(_cell(f.get(name, "")) for name in ("headline_1", "headline_2", "headline_3")),
                *(_cell(f.get(name, "")) for name in ("description_1", "description_2")),
            ]
        )
    return out.getvalue()
