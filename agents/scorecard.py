"""The per-piece scorecard: checks passed / checks applied, by group, from the piece's findings.

Contract: :func:`scorecard` turns a delivered piece's findings into a :class:`~agents.state.Scorecard` with
four groups, the way brand teams read guideline scores:

- ``channel``: the channel's rules — limits, minimum length, conventions (hashtags, greeting, sign-off),
  endings (no truncated field, no fragment), no template text, ids or echoed instructions;
- ``voice``: the brand's voice — required terms present and spelled right, banned terms, competitors,
  one language, no repetition, the positioning line at most once, never the tool's name;
- ``facts``: every figure, offer and policy the piece states is in the documents, for the right case
  and product (and, when the model checks claims, the claims it judged);
- ``compliance``: the regulated categories (superlatives, guarantees, health, education and finance
  claims, endorsements), personal data, secrets, injected instructions, unsafe markup.

A check is *applied* when it concerns the piece (hashtags only where the channel expects them, a
required term only where the brand requires one); it *fails* when an unfixed finding of it stands on the
delivered piece, warnings included; a finding fixed by revision or sanitising counts as passed.
"""

from __future__ import annotations

from agents.channels import ChannelSpec
from agents.quality import QUALITY_RULES, Group
from agents.state import CheckGroup, Scorecard
from knowledge.brand import Brand
from policy.findings import ComplianceFinding

GROUPS: tuple[Group, ...] = ("channel", "voice", "facts", "compliance")
COMPLIANCE_CHECKS = (
    "superlative",
    "guarantee",
    "health_claim",
    "education_claim",
    "finance_claim",
    "state_endorsement",
    "pii",
    "secret",
    "prompt_injection",
    "unsafe_markup",
)
FACT_CHECKS = (
    "claims.sourced",
    "claims.unsupported_offer",
    "claims.unsupported_detail",
    "facts.condition_mismatch",
    "facts.product_mismatch",
    "facts.feature_mismatch",
    "facts.unknown_contact",
)


def check_of(finding: ComplianceFinding) -> tuple[Group, str]:
    """The group and check a finding belongs to."""
    rule = finding.rule_id
    if rule in QUALITY_RULES:
        return QUALITY_RULES[rule][0], rule
    if finding.category in ("channel_limit", "generation"):
        return "channel", rule
    if rule.startswith("brand.") or finding.category in ("banned_term", "competitor"):
        return "voice", rule
    if finding.category == "unsupported_claim":
        if rule in FACT_CHECKS or rule == "claims.model_unsupported":
            return "facts", rule
        return "facts", "claims.sourced"
    return "compliance", finding.category


def applied_checks(channel: ChannelSpec, brand: Brand, *, model_claims: bool) -> dict[Group, set[str]]:
    """The checks that concern a piece of ``channel`` for ``brand``, by group."""
    fields = channel.fields
    channel_checks = {
        "channel.limit",
        "quality.truncated",
        "quality.fragment",
        "quality.opens_mid_thought",
        "quality.placeholder",
        "quality.echoed_instruction",
        "quality.citation_id",
        "quality.guideline_echoed",
        "quality.strategy_leaked",
        "quality.contact_missing",
    }
    if any(f.min_words for f in fields):
        channel_checks.add("quality.too_short")
    if any(f.prose for f in fields) and not all(f.prose for f in fields):
        channel_checks.add("quality.subject_unbacked")
    for rule, wanted in (
        ("quality.hashtags", any(f.min_hashtags for f in fields)),
        ("quality.greeting", any(f.greeting for f in fields)),
        ("quality.sign_off", any(f.sign_off for f in fields)),
        ("quality.call_to_action", any(f.call_to_action for f in fields)),
    ):
        if wanted:
            channel_checks.add(rule)
    voice = {
        "quality.mixed_language",
        "quality.repetition",
        "quality.positioning_repeated",
        "quality.tool_name",
        "quality.filler",
        "quality.third_person",
        "quality.pasted_label",
    }
    if brand.language == "zh":
        voice.add("quality.register_mixed")
    if brand.required_terms:
        voice.add("brand.required_spelling")
        if brand.required_terms_in.get(channel.name, channel.required_terms) != "none":
            voice.add("quality.required_term")
    if brand.banned_terms:
        voice.add("brand.banned_term")
    if brand.competitors:
        voice.add("brand.competitor")
    facts = set(FACT_CHECKS) | ({"claims.model_unsupported"} if model_claims else set())
    if channel.inputs:
        facts.add("facts.policy_not_used")
    if channel.features == "story":
        facts.add("facts.story_added")
    return {"channel": channel_checks, "voice": voice, "facts": facts, "compliance": set(COMPLIANCE_CHECKS)}


def scorecard(
    channel: ChannelSpec, brand: Brand, findings: list[ComplianceFinding], *, model_claims: bool = True
) -> Scorecard:
    """The scorecard of a delivered piece with ``findings`` (see the module docstring)."""
    applied = applied_checks(channel, brand, model_claims=model_claims)
    failed: dict[Group, set[str]] = {g: set() for g in GROUPS}
    for finding in findings:
        group, check = check_of(finding)
        applied[group].add(check)  # a finding of a check not listed still counts as applied
        if not finding.fixed:
            failed[group].add(check)
    groups = {
        g: CheckGroup(
            passed=len(applied[g]) - len(failed[g]), applied=len(applied[g]), failed=sorted(failed[g])
        )
        for g in GROUPS
    }
    passed = sum(c.passed for c in groups.values())
    total = sum(c.applied for c in groups.values())
    score = round(passed / total, 3) if total else 1.0
    return Scorecard(score=score, passed=passed, applied=total, groups=groups)
