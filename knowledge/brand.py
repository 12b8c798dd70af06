"""The brand: what a brand folder holds and how it is validated.

A brand is a folder with ``brand.yaml`` (validated by :class:`Brand`, ``extra="forbid"``) and a
``knowledge/`` folder of documents. :func:`load_brand` is the only way in from disk; every problem is
an :class:`~core.errors.InputError` naming ``brand.yaml`` and the field. The JSON Schema for
editors comes from :func:`brand_json_schema` (also exported to ``docs/brand.schema.json``).

Every list and string has a maximum length (the ``MAX_*`` constants below, also stated in each field's
description and in the schema), so a brand.yaml cannot make a compliance check or a prompt arbitrarily
expensive: 354,000 banned terms used to run a check past 300 s. ``brand.yaml`` itself must be a regular
file inside the brand folder (a symlink to elsewhere is refused, as for knowledge documents).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from core.errors import InputError
from core.yamlio import confined_path, load_yaml, validate_model

# Limits. A real brand uses a few dozen terms (the examples: under 10 banned terms, 3 products); the
# numbers leave room for large brands while keeping a 10 KB compliance check around a second.
MAX_TERM_CHARS = 100  # a banned, required or competitor term, a name, an id
MAX_LINE_CHARS = 500  # a voice rule, a product fact, a host, a disclaimer line
MAX_PARAGRAPH_CHARS = 4_000  # positioning, audience, a description, a channel input, a disclaimer
MAX_BANNED_TERMS = 2_000
MAX_REQUIRED_TERMS = 500
MAX_COMPETITORS = 500
MAX_PRODUCTS = 100
MAX_FACTS_PER_PRODUCT = 50
MAX_VOICE_ITEMS = 50  # each of descriptors, do, dont
MAX_CHANNELS = 50
MAX_GLOSSARY = 200
MAX_RULE_FILES = 20  # each may hold 500 rules: 10,000 brand rules at most
MAX_CHANNEL_INPUTS = 20  # inputs per channel
MAX_COMPLIANCE_ITEMS = 500  # each compliance list / mapping (packs, rule files, ids, hosts, ...)

Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TERM_CHARS)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LINE_CHARS)]
Paragraph = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PARAGRAPH_CHARS)
]
OptionalParagraph = Annotated[str, StringConstraints(max_length=MAX_PARAGRAPH_CHARS)]
Key = Annotated[str, StringConstraints(max_length=MAX_TERM_CHARS)]  # a mapping key: channel, input, rule id
ChannelInputs = Annotated[dict[Key, OptionalParagraph], Field(max_length=MAX_CHANNEL_INPUTS)]
RequiredIn = Literal["piece", "none"] | Annotated[list[Key], Field(min_length=1, max_length=32)]
NonEmpty = Line  # kept for importers: a non-empty, stripped line
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _items(n: int, chars: int) -> str:
    return f"At most {n:,} items of at most {chars:,} characters each."


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Voice(_Strict):
    """How the brand sounds."""

    descriptors: list[Line] = Field(
        default_factory=list,
        max_length=MAX_VOICE_ITEMS,
        description="Adjectives for the voice. " + _items(MAX_VOICE_ITEMS, MAX_LINE_CHARS),
    )
    do: list[Line] = Field(
        default_factory=list,
        max_length=MAX_VOICE_ITEMS,
        description="Things the copy should do. " + _items(MAX_VOICE_ITEMS, MAX_LINE_CHARS),
    )
    dont: list[Line] = Field(
        default_factory=list,
        max_length=MAX_VOICE_ITEMS,
        description="Things the copy must not do. " + _items(MAX_VOICE_ITEMS, MAX_LINE_CHARS),
    )


class Product(_Strict):
    """One product or offer, with facts the copy may cite."""

    name: Line = Field(description=f"Product name, at most {MAX_LINE_CHARS} characters.")
    description: OptionalParagraph = Field("", description=f"At most {MAX_PARAGRAPH_CHARS:,} characters.")
    facts: list[Line] = Field(
        default_factory=list,
        max_length=MAX_FACTS_PER_PRODUCT,
        description="Facts the copy may cite. " + _items(MAX_FACTS_PER_PRODUCT, MAX_LINE_CHARS),
    )


class BrandCompliance(_Strict):
    """The brand's additions to the locale's and industry's compliance rules."""

    packs: list[Term] = Field(
        default_factory=list,
        max_length=MAX_COMPLIANCE_ITEMS,
        description="Extra industry rule packs, e.g. [finance] for a travel insurer. "
        + _items(MAX_COMPLIANCE_ITEMS, MAX_TERM_CHARS),
    )
    rule_files: list[Line] = Field(
        default_factory=list,
        max_length=MAX_RULE_FILES,
        description="The brand's own rule-pack YAML files, inside the brand folder. "
        + _items(MAX_RULE_FILES, MAX_LINE_CHARS),
    )
    disable: list[Term] = Field(
        default_factory=list,
        max_length=MAX_COMPLIANCE_ITEMS,
        description="Rule ids that do not apply to this brand. "
        + _items(MAX_COMPLIANCE_ITEMS, MAX_TERM_CHARS),
    )
    severity: dict[Key, Literal["block", "warn"]] = Field(
        default_factory=dict,
        max_length=MAX_COMPLIANCE_ITEMS,
        description=f"Rule id -> severity override. At most {MAX_COMPLIANCE_ITEMS:,} entries.",
    )
    allowed_hosts: list[Line] = Field(
        default_factory=list,
        max_length=MAX_COMPLIANCE_ITEMS,
        description="Hosts that links and images may point to (subdomains included). "
        + _items(MAX_COMPLIANCE_ITEMS, MAX_LINE_CHARS),
    )
    allowed_contacts: list[Line] = Field(
        default_factory=list,
        max_length=MAX_COMPLIANCE_ITEMS,
        description="The brand's public e-mail addresses and phone numbers (not PII). "
        + _items(MAX_COMPLIANCE_ITEMS, MAX_LINE_CHARS),
    )
    disclaimers: list[Paragraph] = Field(
        default_factory=list,
        max_length=MAX_COMPLIANCE_ITEMS,
        description="Required legal text; rule hits inside it are not violations. "
        + _items(MAX_COMPLIANCE_ITEMS, MAX_PARAGRAPH_CHARS),
    )


MAX_MONITOR_ITEMS = 200  # aliases, tracked rivals, aspects; each rival or aspect up to 200 names or words


class Monitoring(_Strict):
    """What ``brandforge monitor`` looks for in mentions besides the brand's name (docs/monitor.md)."""

    aliases: list[Term] = Field(
        default_factory=list,
        max_length=MAX_MONITOR_ITEMS,
        description="Other names customers use for the brand (nicknames, transliterations); spelling slips "
        "of a Latin name of six letters or more are matched without listing them. "
        + _items(MAX_MONITOR_ITEMS, MAX_TERM_CHARS),
    )
    competitors: dict[Term, Annotated[list[Term], Field(max_length=MAX_MONITOR_ITEMS)]] = Field(
        default_factory=dict,
        max_length=MAX_MONITOR_ITEMS,
        description="Rivals to track, each with its other names (the brand's `competitors` are tracked too). "
        f"At most {MAX_MONITOR_ITEMS} rivals.",
    )
    aspects: dict[Key, Annotated[list[Term], Field(max_length=MAX_MONITOR_ITEMS)]] = Field(
        default_factory=dict,
        max_length=MAX_MONITOR_ITEMS,
        description="Aspects for this brand's industry, each with the words that signal it (added to the "
        "built-in aspects, or extending one of the same name). Lower-case letters, digits and '_' in names.",
    )
    timezone: Term | None = Field(
        None,
        description="IANA zone of times given without an offset, and of the days alerts count in "
        "(default: Asia/Shanghai for a Chinese brand, UTC otherwise).",
    )

    @field_validator("aspects")
    @classmethod
    def _aspect_names(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name in value:
            if not re.fullmatch(r"[a-z0-9_]{1,40}", name):
                raise ValueError(f"aspect name {name!r}: expected lower-case letters, digits and '_'")
        return value


class Brand(_Strict):
    """Everything in ``brand.yaml``. ``root`` is set by :func:`load_brand`, never by the file."""

    name: Term = Field(description=f"Brand name as it must be written; at most {MAX_TERM_CHARS} characters.")
    positioning: Paragraph = Field(
        description="The positioning statement to turn into content; "
        f"at most {MAX_PARAGRAPH_CHARS:,} characters."
    )
    locale: Term = Field(description="Language of the content: 'en', 'zh', 'zh-CN', ...")
    industry: Term = Field(
        "general",
        description=f"Industry, used to pick compliance rule packs; at most {MAX_TERM_CHARS} characters.",
    )
    audience: OptionalParagraph = Field("", description=f"At most {MAX_PARAGRAPH_CHARS:,} characters.")
    voice: Voice = Field(default_factory=Voice)
    products: list[Product] = Field(
        default_factory=list, max_length=MAX_PRODUCTS, description=f"At most {MAX_PRODUCTS} products."
    )
    channels: list[Term] = Field(
        default_factory=lambda: ["search_ad", "social_post", "email", "blog", "cs_reply"],
        max_length=MAX_CHANNELS,
        description="Channel names (built-in or from channel YAML files). "
        + _items(MAX_CHANNELS, MAX_TERM_CHARS),
    )
    channel_inputs: dict[Key, ChannelInputs] = Field(
        default_factory=dict,
        max_length=MAX_CHANNELS,
        description="Per-channel inputs, e.g. cs_reply: {question: ...}. "
        f"At most {MAX_CHANNELS} channels of at most {MAX_CHANNEL_INPUTS} inputs, "
        f"each at most {MAX_PARAGRAPH_CHARS:,} characters.",
    )
    banned_terms: list[Term] = Field(
        default_factory=list,
        max_length=MAX_BANNED_TERMS,
        description="Terms the copy must never use. " + _items(MAX_BANNED_TERMS, MAX_TERM_CHARS),
    )
    required_terms: list[Term] = Field(
        default_factory=list,
        max_length=MAX_REQUIRED_TERMS,
        description="Terms whose exact spelling is enforced (e.g. trademarks). "
        + _items(MAX_REQUIRED_TERMS, MAX_TERM_CHARS),
    )
    competitors: list[Term] = Field(
        default_factory=list,
        max_length=MAX_COMPETITORS,
        description="Competitor names the copy must not mention. " + _items(MAX_COMPETITORS, MAX_TERM_CHARS),
    )
    glossary: list[Term] = Field(
        default_factory=list,
        max_length=MAX_GLOSSARY,
        description="Names and terms the copy keeps in another script (Latin letters in Chinese copy, "
        "e.g. Scratch, micro:bit), besides the brand's name, required terms, products and documents. "
        + _items(MAX_GLOSSARY, MAX_TERM_CHARS),
    )
    required_terms_in: dict[Key, RequiredIn] = Field(
        default_factory=dict,
        max_length=MAX_CHANNELS,
        description="Per channel, where a required term must appear: 'piece' (the default: any field), "
        "'none' (the channel may omit it, e.g. a short ad), or a list of field names (any one of them).",
    )
    compliance: BrandCompliance = Field(default_factory=BrandCompliance)
    monitor: Monitoring = Field(default_factory=Monitoring)
    knowledge_dir: Line = Field(
        "knowledge", description="Folder of knowledge documents, inside the brand folder."
    )
    root: Path | None = Field(None, exclude=True, description="Set by the loader; not a brand.yaml field.")

    @field_validator("locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        if not _LOCALE.match(value):
            raise ValueError("expected a language code such as 'en', 'zh' or 'zh-CN'")
        return value

    @field_validator("channels")
    @classmethod
    def _check_channels(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("expected at least one channel")
        if len(set(value)) != len(value):
            raise ValueError("channel listed twice")
        return value

    @property
    def language(self) -> str:
        """Primary language subtag: 'zh' for 'zh-CN'."""
        return self.locale.split("-")[0]

    @property
    def knowledge_path(self) -> Path:
        """Absolute path of the knowledge folder, confined to the brand folder."""
        if self.root is None:
            raise InputError("brand has no folder; load it with load_brand() to use its knowledge")
        return confined_path(
            self.root, self.knowledge_dir, source=self.root / "brand.yaml", field="knowledge_dir"
        )


def load_brand(path: str | Path) -> Brand:
    """Load ``BRAND_DIR/brand.yaml`` (or a path to the YAML itself) and validate it."""
    path = Path(path)
    if not path.exists():
        raise InputError("brand folder not found; expected a folder holding brand.yaml", source=path)
    if path.is_dir():
        root, yaml_path = path, path / "brand.yaml"
    else:
        root, yaml_path = path.parent, path
    if not yaml_path.exists():
        raise InputError("brand.yaml not found; expected a brand folder holding brand.yaml", source=yaml_path)
    if not yaml_path.resolve().is_relative_to(root.resolve()):
        # Like a knowledge document, brand.yaml may be a link only to a file inside the brand folder.
        raise InputError("link points outside the brand folder; expected a file inside it", source=yaml_path)
    data = load_yaml(yaml_path)
    if isinstance(data, dict) and "root" in data:
        raise InputError("unknown field (remove it or check its spelling)", source=yaml_path, field="root")
    brand = validate_model(data, Brand, yaml_path).model_copy(update={"root": root.resolve()})
    brand.knowledge_path  # noqa: B018 - validates the knowledge_dir confinement at load time
    return brand


def brand_json_schema() -> str:
    """JSON Schema of brand.yaml, for editors and docs."""
    schema = Brand.model_json_schema()
    schema["properties"].pop("root", None)
    return json.dumps(schema, indent=2, ensure_ascii=False)
