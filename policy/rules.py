"""Rule packs: compliance rules as data, chosen by locale and industry, extended per brand.

Contract: a pack is a YAML file ``policy/rules/<locale>/<pack>.yaml`` validated by
:class:`RulePack` (``extra="forbid"``). ``general.yaml`` applies to every text in that locale; industry
packs (``cosmetics``, ``health_food``, ``finance``, ``education``) apply when the brand's industry (or
``--industry``) names them, directly or through :data:`INDUSTRY_ALIASES`. A brand adds its own terms
(``banned_terms``, ``competitors``) and, under ``compliance:`` in ``brand.yaml``, extra packs, its own
rule files, disabled rule ids and severity overrides. :func:`load_policy` merges all of it into one
:class:`Policy`; every problem is an :class:`~core.errors.InputError` naming the file and field.

Rule ``patterns`` and ``unless`` regexes — built-in and a brand's own — run on RE2
(:func:`~policy.text.linear_regex`), whose matching time is linear in the text, so no rule can
stall a check: a regex RE2 cannot compile (lookaround, backreferences) or longer than
:data:`MAX_PATTERN_CHARS` is rejected when the pack loads. RE2 has no lookahead; a pattern that needs
context after its match captures the part to report as ``(?P<hit>…)`` and the context after it. Packs
are bounded too: :data:`MAX_RULES_PER_PACK` rules, :data:`MAX_TERMS_PER_RULE` terms or exceptions and
:data:`MAX_PATTERNS_PER_RULE` patterns or ``unless`` regexes per rule.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from core.errors import InputError
from core.yamlio import confined_path, load_model_cached
from knowledge.brand import Brand
from policy.findings import Severity
from policy.text import linear_regex, word_frequency

RULES_DIR = Path(__file__).parent / "rules"
GENERAL = "general"

# Limits on what a pack (or a brand's rule file) may hold. Matching cost grows with the number of terms
# and patterns times the length of the text, so each is bounded; the built-in packs use a fraction.
MAX_RULES_PER_PACK = 500
MAX_TERMS_PER_RULE = 10_000
MAX_PATTERNS_PER_RULE = 100
MAX_PATTERN_CHARS = 2_000
# A brand's banned_terms become one rule; English words are also banned in their plural (x2).
MAX_BRAND_TERMS = MAX_TERMS_PER_RULE // 2

# Brand industries that map onto a rule pack of another name.
INDUSTRY_ALIASES = {
    "skincare": "cosmetics",
    "beauty": "cosmetics",
    "personal_care": "cosmetics",
    "supplements": "health_food",
    "dietary_supplements": "health_food",
    "nutrition": "health_food",
    "fintech": "finance",
    "banking": "finance",
    "investment": "finance",
    "insurance": "finance",
    "edtech": "education",
    "tutoring": "education",
    "training": "education",
}


def rule_regex(pattern: str) -> Any:
    """A rule's ``patterns`` / ``unless`` regex, compiled by RE2, case-insensitive (cached)."""
    return linear_regex(f"(?i){pattern}")


def _linear_time(pattern: str) -> str:
    # Compiled now, so a bad regex fails when the pack loads, not in the middle of a campaign.
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"regex of {len(pattern)} characters; expected at most {MAX_PATTERN_CHARS}")
    try:
        rule_regex(pattern)
    except ValueError as exc:
        reason = str(exc).replace("(?i)", "", 1)  # the flag rule_regex adds is not the user's
        raise ValueError(
            f"invalid regex ({reason}); expected RE2 syntax, which runs in linear time: no lookahead "
            "or lookbehind ((?=, (?!, (?<=, (?<!), no backreferences (\\1); to report only part of a "
            "match, name that part (?P<hit>...)"
        ) from None
    return pattern


RE2Pattern = Annotated[str, AfterValidator(_linear_time)]


class Rule(BaseModel):
    """One rule: any of ``terms`` in a text is a finding, unless inside an exception or disclaimer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$", description="Unique, e.g. 'zh.cosmetics.medical'."
    )
    category: str = Field(pattern=r"^[a-z_]+$", description="e.g. superlative, guarantee, health_claim.")
    severity: Severity
    terms: list[str] = Field(
        default_factory=list,
        max_length=MAX_TERMS_PER_RULE,
        description="Literal phrases, matched evasion-robustly.",
    )
    patterns: list[RE2Pattern] = Field(
        default_factory=list,
        max_length=MAX_PATTERNS_PER_RULE,
        description="RE2 regexes over folded text (lower-case, simplified Chinese), for what terms cannot "
        "say. No lookaround or backreferences; a group named 'hit' is what gets reported.",
    )
    exceptions: list[str] = Field(
        default_factory=list,
        max_length=MAX_TERMS_PER_RULE,
        description="Longer phrases holding a term that are fine ('第一次', 'best regards').",
    )
    unless: list[RE2Pattern] = Field(
        default_factory=list,
        max_length=MAX_PATTERNS_PER_RULE,
        description="RE2 regexes over the (folded) sentence, case-insensitive; a match makes the hit fine "
        "(e.g. a cited source).",
    )
    explanation: str
    suggestion: str | None = None
    legal_reference: str | None = None
    needs_reading: list[str] = Field(
        default_factory=list,
        max_length=MAX_TERMS_PER_RULE,
        description="Terms of this rule with everyday figurative uses ('healing', '治愈'): with the semantic "
        "layer on, a hit on one of them blocks only when its sentence also reads as the rule's category "
        "(or the judge upholds it in the uncertain band); otherwise it warns. Without the layer it blocks.",
    )
    whole_words: bool = Field(
        False,
        description="A Chinese term matches only as whole words of its sentence (word segmentation): "
        "'包过' is not in '打包过来'. Spaced or disguised spellings still match.",
    )

    @field_validator("terms", "exceptions")
    @classmethod
    def _no_blank(cls, value: list[str]) -> list[str]:
        if any(not v.strip() for v in value):
            raise ValueError("expected non-empty phrases")
        return value

    @model_validator(mode="after")
    def _has_something_to_match(self) -> Rule:
        if not self.terms and not self.patterns:
            raise ValueError("a rule needs at least one of terms or patterns")
        return self


class RulePack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pack: str
    locale: str
    industry: str | None = None
    description: str = ""
    disclaimers: list[str] = Field(
        default_factory=list, description="Standard disclaimers; rule hits inside them are ignored."
    )
    rules: list[Rule] = Field(max_length=MAX_RULES_PER_PACK)


@dataclass
class Policy:
    """Everything a checker needs to know about one locale, industry and brand."""

    locale: str
    industry: str
    packs: list[str]
    rules: list[Rule]
    disclaimers: list[str] = field(default_factory=list)
    required_terms: list[str] = field(default_factory=list)
    allowed_hosts: list[str] = field(default_factory=list)
    allowed_contacts: list[str] = field(default_factory=list)
    brand_severity: frozenset[str] = frozenset()
    """Ids of the rules whose severity the brand set (``compliance.severity``): its own decision, which
    no classifier or judge disputes (Qingyu blocks an ability claim as a matter of voice)."""

    @property
    def exceptions(self) -> list[str]:
        """Harmless phrases of the language ("第一次", "best regards") stay harmless whoever bans the word."""
        return list(dict.fromkeys(e for rule in self.rules for e in rule.exceptions))

    @property
    def legal_references(self) -> dict[str, str]:
        """Per category, the legal reference of its first rule that has one: the semantic layer and
        the judge map their findings onto the same categories, and cite what the rule packs cite."""
        refs: dict[str, str] = {}
        for rule in self.rules:
            if rule.legal_reference:
                refs.setdefault(rule.category, rule.legal_reference)
        return refs


def locales(folder: Path = RULES_DIR) -> list[str]:
    return sorted(p.parent.name for p in folder.glob(f"*/{GENERAL}.yaml"))


def industries(locale: str, folder: Path = RULES_DIR) -> list[str]:
    return sorted(p.stem for p in (folder / locale).glob("*.yaml") if p.stem != GENERAL)


def language_of(locale: str) -> str:
    return locale.split("-")[0].split("_")[0].lower()


def pack_for_industry(locale: str, industry: str | None) -> str | None:
    """The industry pack for ``industry`` in ``locale``, or None if there is none (general rules only)."""
    if not industry or industry == GENERAL:
        return None
    name = INDUSTRY_ALIASES.get(industry, industry)
    if not name.replace("_", "").isalnum() or not name.isascii():  # a pack is a plain name, never a path
        return None
    return name if (RULES_DIR / language_of(locale) / f"{name}.yaml").exists() else None


def load_pack(path: Path) -> RulePack:
    return load_model_cached(path, RulePack)


def _with_plurals(terms: list[str]) -> list[str]:
    """English single words also banned in their plural ("hack" -> "hacks")."""
    out = list(terms)
    for term in terms:
        if re.fullmatch(r"[A-Za-z]+", term):
            out.append(term + ("es" if term.endswith(("s", "x", "ch", "sh")) else "s"))
    return list(dict.fromkeys(out))


# "chemical-free" is as often said "free from harmful chemicals" or "no toxic chemicals" (a Clearleaf ad
# of 2026-12-05 passed with the first): an English "<x>-free" term also bans those forms, with at most
# one of these words before the thing it is free of.
_FREE_CLAIM = re.compile(r"([a-z]+)[- ]free")
_FREE_OF = ("free from", "free of", "no", "without", "zero")
_FREE_QUALIFIERS = (
    "",
    "harmful ",
    "toxic ",
    "harsh ",
    "nasty ",
    "dangerous ",
    "synthetic ",
    "artificial ",
    "any ",
)


def free_forms(terms: list[str]) -> list[str]:
    """``terms`` with the other ways an English "<x>-free" term is said: "chemical-free" also as "free
    from chemicals", "free of harmful chemicals", "no toxic chemicals", "without any chemicals", "zero
    chemicals" (the thing in the singular and the plural). Other terms are kept as they are."""
    out = list(terms)
    for term in terms:
        m = _FREE_CLAIM.fullmatch(term.strip().casefold())
        if m is None:
            continue
        things = (m.group(1), m.group(1) + ("es" if m.group(1).endswith(("s", "x", "ch", "sh")) else "s"))
        out += [f"{lead} {word}{thing}" for lead in _FREE_OF for word in _FREE_QUALIFIERS for thing in things]
    return list(dict.fromkeys(out))


# What a Chinese company's name ends on and copy leaves out when it names the company in passing: "鸥港财富"
# is "鸥港" in "還在用鷗港？" (the thirteenth blind set's miss). Longest first.
_CHINESE_COMPANY_SUFFIXES = sorted(
    (  # noqa: SIM905 - a word list reads better as one string
        "股份有限公司 有限公司 公司 集团 控股 财富 金融 理财 投资 资本 基金 证券 保险 银行 科技 "
        "网络 传媒 教育 学院 学社 学堂 书院 培训 英语 编程 食品 生物 医药 健康 美妆 护肤 化妆品 "
        "旅行 旅游 咖啡 茶业 茶饮 家居 服饰 商城 超市 酒店 餐饮 火锅"
    ).split(),
    key=len,
    reverse=True,
)


_COMMON_WORD = 10  # jieba's dictionary count from which a short name is too often just the word (栈桥: 37)


def competitor_names(competitors: list[str]) -> list[str]:
    """The brand's competitors, with each Chinese name that ends on a company word also without it
    ("鸥港财富" and "鸥港"), when two Chinese characters or more are left that are not a common word
    ("栈桥金融" stays whole: 栈桥 is a pier)."""
    out = list(competitors)
    for name in competitors:
        stem = name.strip()
        for suffix in _CHINESE_COMPANY_SUFFIXES:
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)].strip()
                break
        if (
            stem != name.strip()
            and len(stem) >= 2
            and all("\u4e00" <= ch <= "\u9fff" for ch in stem)
            and word_frequency(stem) < _COMMON_WORD
        ):
            out.append(stem)
    return list(dict.fromkeys(out))


def brand_rules(brand: Brand) -> list[Rule]:
    """The brand's own banned terms and competitor names, as rules."""
    rules = []
    source = brand.root / "brand.yaml" if brand.root else None
    for where, terms in (("banned_terms", brand.banned_terms), ("competitors", brand.competitors)):
        if len(terms) > MAX_BRAND_TERMS:
            raise InputError(
                f"{len(terms)} terms; expected at most {MAX_BRAND_TERMS}", source=source, field=where
            )
    if brand.banned_terms:
        rules.append(
            Rule(
                id="brand.banned_term",
                category="banned_term",
                severity="block",
                terms=_with_plurals(brand.banned_terms),  # an English "-free" term's forms: load_policy
                whole_words=True,
                explanation="the brand does not allow this term",
                suggestion="remove it or say it another way",
                legal_reference=None,
            )
        )
    if brand.competitors:
        rules.append(
            Rule(
                id="brand.competitor",
                category="competitor",
                # Blocks on its own (rules only). With the semantic layer it is conditional unless the
                # brand sets its severity: a mention blocks only when the sentence reads as running the
                # rival down (policy.checker._conditional); in generated copy any mention blocks.
                # `severity: {brand.competitor: block}` in brand.yaml blocks every mention everywhere.
                severity="block",
                terms=competitor_names(brand.competitors),
                whole_words=True,  # a short name inside another word is not the rival: 鸥港 in 海鸥港口
                explanation="names a competitor",
                suggestion="remove the mention of the competitor",
            )
        )
    return rules


CAMPAIGN_RULE_NAMESPACES = ("quality.", "facts.")
"""Rule ids of the campaign's publishable-copy checks (``agents.quality``): a brand may set their severity
in ``compliance.severity``; the campaign layer, which defines them, says which exist."""


def load_policy(
    locale: str,
    industry: str | None = None,
    brand: Brand | None = None,
    *,
    strict_industry: bool = False,
) -> Policy:
    """Merge the locale's general pack, the industry pack, and the brand's terms and overrides.

    ``strict_industry`` makes an industry without a pack an error (the CLI's ``--industry``); a brand's
    free-text industry ("travel") without a pack just means general rules.
    """
    language = language_of(locale)
    valid = locales()
    if language not in valid:
        raise InputError(f"unknown locale {locale!r}; valid choices: {', '.join(valid)}", field="locale")
    pack_names = [GENERAL]
    industry_pack = pack_for_industry(language, industry)
    if strict_industry and industry and industry != GENERAL and industry_pack is None:
        choices = [GENERAL, *industries(language), *sorted(INDUSTRY_ALIASES)]
        raise InputError(
            f"unknown industry {industry!r} for locale {language!r}; valid choices: {', '.join(choices)}",
            field="industry",
        )
    if industry_pack:
        pack_names.append(industry_pack)
    source = brand.root / "brand.yaml" if brand is not None and brand.root else None
    settings = brand.compliance if brand is not None else None
    if settings is not None:
        for n, extra in enumerate(settings.packs):
            name = pack_for_industry(language, extra)
            if name is None:
                raise InputError(
                    f"no rule pack {extra!r} for locale {language!r}; valid choices: "
                    f"{', '.join(industries(language))}",
                    source=source,
                    field=f"compliance.packs[{n}]",
                )
            pack_names.append(name)
    pack_names = list(dict.fromkeys(pack_names))
    packs = [load_pack(RULES_DIR / language / f"{name}.yaml") for name in pack_names]
    if settings is not None and settings.rule_files:
        if brand is None or brand.root is None or source is None:
            raise InputError(
                "rule files need a brand folder (load the brand with load_brand)",
                field="compliance.rule_files",
            )
        for n, rel in enumerate(settings.rule_files):
            path = confined_path(brand.root, rel, source=source, field=f"compliance.rule_files[{n}]")
            if not path.is_file():
                raise InputError("rule file not found", source=source, field=f"compliance.rule_files[{n}]")
            packs.append(load_pack(path))

    rules = [rule for pack in packs for rule in pack.rules]
    if brand is not None:
        rules += brand_rules(brand)
    if language == "en":
        rules = [r.model_copy(update={"terms": free_forms(r.terms)}) if r.terms else r for r in rules]
    ids = [r.id for r in rules]
    dupes = sorted(i for i, n in collections.Counter(ids).items() if n > 1)
    if dupes:
        raise InputError(f"rule ids defined twice: {', '.join(dupes)}", source=source, field="compliance")
    disclaimers = [d for pack in packs for d in pack.disclaimers]
    policy = Policy(
        locale=language,
        industry=industry or GENERAL,
        packs=[p.pack for p in packs],
        rules=rules,
        disclaimers=disclaimers,
    )
    if brand is not None:
        policy.required_terms = list(brand.required_terms)
    if settings is not None:
        known = set(ids)
        for where, names, theirs in (
            ("compliance.disable", settings.disable, ()),
            # a campaign's publishable-copy checks take a severity too (not a disable); the campaign
            # layer, which defines them, checks those ids (agents.compliance.checker_for)
            ("compliance.severity", settings.severity, CAMPAIGN_RULE_NAMESPACES),
        ):
            unknown = [n for n in names if n not in known and not (theirs and n.startswith(theirs))]
            if unknown:
                raise InputError(
                    f"unknown rule id {unknown[0]!r}; valid choices: {', '.join(sorted(known))}",
                    source=source,
                    field=where,
                )
        policy.rules = [
            r.model_copy(update={"severity": settings.severity.get(r.id, r.severity)})
            for r in rules
            if r.id not in settings.disable
        ]
        policy.brand_severity = frozenset(settings.severity)
        policy.disclaimers += settings.disclaimers
        policy.allowed_hosts = list(settings.allowed_hosts)
        policy.allowed_contacts = list(settings.allowed_contacts)
    return policy
