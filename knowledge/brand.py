"""The brand: what a brand folder holds and how it is validated.

A brand is a folder with ``brand.yaml`` (validated by :class:`Brand`, ``extra="forbid"``) and a
``knowledge/`` folder of documents. :func:`load_brand` is the only way in from disk; every problem is
an :class:`~knowledge.errors.InputError` naming ``brand.yaml`` and the field. The JSON Schema for
editors comes from :func:`brand_json_schema` (also exported to ``docs/brand.schema.json``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from knowledge.errors import InputError
from knowledge.yamlio import confined_path, load_yaml, validate_model

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Voice(_Strict):
    """How the brand sounds."""

    descriptors: list[NonEmpty] = Field(default_factory=list, description="Adjectives for the voice.")
    do: list[NonEmpty] = Field(default_factory=list, description="Things the copy should do.")
    dont: list[NonEmpty] = Field(default_factory=list, description="Things the copy must not do.")


class Product(_Strict):
    """One product or offer, with facts the copy may cite."""

    name: NonEmpty
    description: str = ""
    facts: list[NonEmpty] = Field(default_factory=list)


class BrandCompliance(_Strict):
    """The brand's additions to the locale's and industry's compliance rules."""

    packs: list[NonEmpty] = Field(
        default_factory=list, description="Extra industry rule packs, e.g. [finance] for a travel insurer."
    )
    rule_files: list[NonEmpty] = Field(
        default_factory=list, description="The brand's own rule-pack YAML files, inside the brand folder."
    )
    disable: list[NonEmpty] = Field(
        default_factory=list, description="Rule ids that do not apply to this brand."
    )
    severity: dict[str, Literal["block", "warn"]] = Field(
        default_factory=dict, description="Rule id -> severity override."
    )
    allowed_hosts: list[NonEmpty] = Field(
        default_factory=list, description="Hosts that links and images may point to (subdomains included)."
    )
    allowed_contacts: list[NonEmpty] = Field(
        default_factory=list, description="The brand's public e-mail addresses and phone numbers (not PII)."
    )
    disclaimers: list[NonEmpty] = Field(
        default_factory=list, description="Required legal text; rule hits inside it are not violations."
    )


class Brand(_Strict):
    """Everything in ``brand.yaml``. ``root`` is set by :func:`load_brand`, never by the file."""

    name: NonEmpty = Field(description="Brand name as it must be written.")
    positioning: NonEmpty = Field(description="The positioning statement to turn into content.")
    locale: str = Field(description="Language of the content: 'en', 'zh', 'zh-CN', ...")
    industry: str = Field("general", description="Industry, used to pick compliance rule packs.")
    audience: str = ""
    voice: Voice = Field(default_factory=Voice)
    products: list[Product] = Field(default_factory=list)
    channels: list[NonEmpty] = Field(
        default_factory=lambda: ["search_ad", "social_post", "email", "blog", "cs_reply"],
        description="Channel names (built-in or from channel YAML files).",
    )
    channel_inputs: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Per-channel inputs, e.g. cs_reply: {question: ...}."
    )
    banned_terms: list[NonEmpty] = Field(default_factory=list)
    required_terms: list[NonEmpty] = Field(
        default_factory=list, description="Terms whose exact spelling is enforced (e.g. trademarks)."
    )
    competitors: list[NonEmpty] = Field(default_factory=list)
    compliance: BrandCompliance = Field(default_factory=BrandCompliance)
    knowledge_dir: str = Field(
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
