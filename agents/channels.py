"""Channel specs: the fields a channel's piece has and their hard limits, as YAML data.

Contract: a channel is a YAML file validated by :class:`ChannelSpec` (``extra="forbid"``). Built-ins live
in ``agents/channels/``; a brand adds or overrides channels with YAML files in ``BRAND_DIR/channels/``.
Lengths are counted by :func:`count_chars` (code points after NFC: one per CJK character) and
:func:`count_words` (Latin words by whitespace; Chinese characters at :data:`ZH_CHARS_PER_WORD` per word, the
usual ratio between a Chinese text and its English translation), so a word limit means about as much text
in English and Chinese. A field also says what form it takes (``form``: whole sentences, or a phrase such
as a headline) and the channel conventions it keeps (``min_hashtags``, ``greeting``, ``sign_off``), which
:mod:`agents.quality` checks. :func:`fit_to_limit` is the last resort for a field still over its limit
after revision: it keeps whole sentences, else whole clauses, and never leaves a dangling word; a cut that
cannot end cleanly is reported by the quality checks, not delivered as clean.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.errors import InputError
from core.yamlio import load_model_cached

BUILTIN_DIR = Path(__file__).parent / "channels"
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3400-\u4dbf]")
_LATIN_WORD = re.compile(r"[^\s\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
HASHTAG = re.compile(r"#[^\s#，。,.!?！？]+")


def count_chars(text: str) -> int:
    """Characters as a reader counts them: code points after NFC normalisation."""
    return len(unicodedata.normalize("NFC", text))


# Chinese characters per English word: 1,000 characters of Chinese run to roughly 600-700 words in English
# (translators' rule of thumb), so a 300-word blog minimum asks for 450 characters of Chinese.
ZH_CHARS_PER_WORD = 1.5


def count_words(text: str) -> int:
    """Words as an English reader counts them: each run of non-space, non-CJK characters is one, and every
    :data:`ZH_CHARS_PER_WORD` CJK characters are one (rounded down)."""
    return int(len(_CJK.findall(text)) / ZH_CHARS_PER_WORD) + len(_LATIN_WORD.findall(_CJK.sub(" ", text)))


def zh_chars(words: int) -> int:
    """The Chinese characters that make ``words`` words."""
    return round(words * ZH_CHARS_PER_WORD)


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # Read-only properties prompts may use besides the fields (see prompts.registry.template_data).
    __template_properties__: ClassVar[tuple[str, ...]] = ("limits_text",)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    max_chars: int | None = Field(None, ge=1, le=100_000)
    min_words: int | None = Field(None, ge=1, le=20_000)
    max_words: int | None = Field(None, ge=1, le=20_000)
    max_hashtags: int | None = Field(None, ge=0, le=100)
    min_hashtags: int | None = Field(None, ge=1, le=100, description="Hashtags the channel expects.")
    form: Literal["sentences", "phrase"] | None = Field(
        None,
        description="sentences: prose that must end with a finished sentence (a short sign-off line may "
        "follow); phrase: a headline or subject, complete without end punctuation. Default: sentences for "
        "fields with a word limit or over 120 characters, else phrase.",
    )
    sections: int | None = Field(
        None,
        ge=2,
        le=8,
        description="How many sections this long field (a blog body) is written in when the copywriter "
        "writes outline-first (`outline_first`, off by default), one call each.",
    )
    specifics: bool = Field(
        False,
        description="The text names one of the brand's products or gives a figure (a post, an e-mail body): "
        "copy that only restates the positioning line says nothing a reader can act on.",
    )
    greeting: bool = Field(False, description="The text opens with a greeting (an e-mail body).")
    sign_off: bool = Field(False, description="The text ends with a sign-off (an e-mail body).")
    call_to_action: bool = Field(
        False,
        description="The piece asks the reader to act (book, order, reply) in one of the fields marked so.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.min_words and self.max_words and self.min_words > self.max_words:
            raise ValueError("min_words is larger than max_words")
        if self.min_hashtags and self.max_hashtags is not None and self.min_hashtags > self.max_hashtags:
            raise ValueError("min_hashtags is larger than max_hashtags")
        return self

    @property
    def prose(self) -> bool:
        """Whether the field is written in whole sentences (see ``form``)."""
        if self.form is not None:
            return self.form == "sentences"
        return bool(self.min_words or self.max_words or (self.max_chars or 0) > 120)

    @property
    def limits_text(self) -> str:
        parts = []
        if self.max_chars:
            hint = f" ≈ {max(2, self.max_chars // 7)} English words" if self.max_chars <= 120 else ""
            parts.append(f"at most {self.max_chars} characters{hint}")
        if self.min_words and self.max_words:
            parts.append(
                f"{self.min_words} to {self.max_words} words (Chinese: {zh_chars(self.min_words)} to "
                f"{zh_chars(self.max_words)} characters)"
            )
        elif self.max_words:
            parts.append(f"at most {self.max_words} words (Chinese: {zh_chars(self.max_words)} characters)")
        if self.min_hashtags and self.max_hashtags is not None:
            parts.append(f"{self.min_hashtags} to {self.max_hashtags} hashtags")
        elif self.max_hashtags is not None:
            parts.append(f"at most {self.max_hashtags} hashtags")
        wanted = [("open with a greeting", self.greeting), ("end with a sign-off", self.sign_off)]
        if self.greeting or self.sign_off:
            parts.append(" and ".join(p for p, on in wanted if on))
        return ", ".join(parts) or "no length limit"

    def schema_max_chars(self) -> int:
        """Generation bound for constrained decoding: generous, so the model is not cut mid-sentence."""
        if self.max_chars:
            return self.max_chars * 2
        if self.max_words:
            return self.max_words * 8
        return 2000

    def violations(self, text: str) -> list[str]:
        """Human-readable limit violations of ``text`` (empty when within limits)."""
        out = []
        if not text.strip():
            out.append(f'"{self.name}" is empty; write it')
        chars, words = count_chars(text), count_words(text)
        if self.max_chars and chars > self.max_chars:
            out.append(f'"{self.name}" has {chars} characters; the limit is {self.max_chars}: shorten it')
        if self.max_words and words > self.max_words:
            out.append(f'"{self.name}" has {words} words; the limit is {self.max_words}: shorten it')
        if self.max_hashtags is not None and len(HASHTAG.findall(text)) > self.max_hashtags:
            out.append(
                f'"{self.name}" has {len(HASHTAG.findall(text))} hashtags; at most {self.max_hashtags}'
            )
        return out

    def shortfalls(self, text: str) -> list[str]:
        """Minimums not met (the quality checks decide how much that matters: :mod:`agents.quality`)."""
        words = count_words(text)
        if self.min_words and words < self.min_words and text.strip():
            zh = f" (Chinese: {zh_chars(self.min_words)} characters)" if _CJK.search(text) else ""
            return [
                f'"{self.name}" has {words} words; it should have at least {self.min_words}{zh}: expand it '
                "with facts from the passages"
            ]
        return []


class ChannelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    fields: list[FieldSpec] = Field(min_length=1, max_length=32)
    inputs: list[str] = Field(
        default_factory=list, description="Per-brand inputs, from brand.yaml channel_inputs."
    )
    max_tokens: int | None = Field(
        None, ge=16, le=32_768, description="Generation budget for this channel's calls."
    )
    required_terms: Literal["piece", "none"] = Field(
        "piece",
        description="Whether a piece must name one of the brand's required_terms (a brand may override it "
        "per channel with required_terms_in).",
    )
    gives_contacts: list[Literal["website", "phone", "email"]] = Field(
        default_factory=list,
        description="Ways of reaching the brand the channel itself gives, so copy that points to them needs "
        "no address in its text: a search ad is a link to the site, an e-mail can be answered.",
    )
    features: Literal["brand", "product", "story"] = Field(
        "brand",
        description="What a piece is about: the brand, or one of its products (the one the brief's angle for "
        "the channel names, else the one its key messages name most), whose sheet the copywriter is given "
        "and which the piece names in its phrase fields (agents.featured.featured_product), or a story: one "
        "part of the brand's documents, the one that best matches the brief's angle, which the piece retells "
        "(agents.story.story_passages; the pipeline's spotlight step adds it to the passages).",
    )

    one_product: bool = Field(
        False,
        description="A piece names one of the brand's products at most: the one its first heading names, "
        "else the one it names most (agents.quality.main_product). A field or sentence about another is a "
        "quality.other_product finding: an e-mail or an ad that wanders from one product to the next reads "
        "as two pieces stitched together.",
    )

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError("field names must be unique")
        return self

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


def load_channels(*folders: Path) -> dict[str, ChannelSpec]:
    """Built-in channels, then each folder's ``*.yaml`` (a later file with the same name overrides)."""
    channels: dict[str, ChannelSpec] = {}
    for folder in (BUILTIN_DIR, *folders):
        root = folder.resolve()
        for path in sorted(folder.glob("*.yaml")):
            if not path.resolve().is_relative_to(root):
                raise InputError(
                    "link points outside its folder; expected a channel file inside it", source=path
                )
            spec = load_model_cached(path, ChannelSpec)
            if spec.name != path.stem:
                raise InputError(
                    f"channel name {spec.name!r} must match the file name {path.stem!r}",
                    source=path,
                    field="name",
                )
            channels[spec.name] = spec
    return channels


def resolve_channels(names: list[str], available: dict[str, ChannelSpec], source: str) -> list[ChannelSpec]:
    """The specs for ``names``; an unknown name lists the valid choices."""
    unknown = [n for n in names if n not in available]
    if unknown:
        raise InputError(
            f"unknown channel {unknown[0]!r}; valid choices: {sorted(available)}",
            source=source,
            field="channels",
        )
    return [available[n] for n in names]


_SENTENCE_END = re.compile(r"[。！？!?…]|\.(?=\s|$)")
_TRAILING_TAGS = re.compile(r"(?:\s*#[^\s#，。,.!?！？]+)+\s*$")
# Not the comma of "1,950 to 2,200 m": cut there, a Tidewater ad description of stop 47's real-model test
# ended "…ranging from 1,950 to 2".
_CLAUSE_END = re.compile(r"[，、；：;:—–|]|(?<!\d),|,(?!\d)|\s-\s")
# Words a phrase cannot end on: a cut after one leaves a fragment ("Experience the durability and").
DANGLING_EN = frozenset(
    (  # noqa: SIM905 - a word list reads better as one string
        "a an the and or but nor of to for with without on in at by from into onto over under about as "
        "than that which who whose whom your our my their its his her this these those is are was were be "
        "been will would can could should may might must has have had do does did not no so very more "
        "most less least like via vs per & + if when while because every each all some any own such"
    ).split()
)
DANGLING_ZH = frozenset("的地得和与及或在对把被让将从向为以并而但跟给更最很是也都就又还及其")
_TRAILING_MARKS = " \t,;:-—–/&+|，、；：（(《“‘「『【"


def _last_word(text: str) -> str:
    """The Latin word ``text`` ends on, case-folded ("" when it ends on something else)."""
    return (re.findall(r"[A-Za-z&+'’]+$", text) or [""])[0].casefold()


_FIRST_HALF = re.compile(
    r"\b(not\s+(?:just|only|merely|simply))\s+[A-Za-z'’-]+(?:[\s,]+[A-Za-z'’-]+){0,2}[.!]?$", re.IGNORECASE
)


def dangling_word(text: str) -> str | None:
    """The word a phrase ends on if it cannot end there (an article, preposition, conjunction, particle)."""
    stripped = text.rstrip()
    if not stripped:
        return None
    if stripped[-1] in _TRAILING_MARKS.strip():
        return stripped[-1]
    if _CJK.match(stripped[-1]):
        # "让你在探索未知的同时" (a Wanderly headline of 2026-12-05): a "while…" clause without its main one.
        for end in ("的同时", "的时候", "之际"):
            if stripped.endswith(end) and (end == "的同时" or "在" in stripped):
                return end
        return stripped[-1] if stripped[-1] in DANGLING_ZH else None
    words = re.findall(r"[A-Za-z&+'’]+$", stripped)
    if words and words[0].casefold() in DANGLING_EN:
        return words[0]
    # A participle that needs its place: "A Small-Batch Specialty Coffee Roaster Based" (a Tidewater blog
    # title of stop 45, seed 7, cut before "on the Columbia River…"); "Made" and "built" may end a phrase.
    if words and words[0].casefold() in _NEEDS_ITS_PLACE:
        return words[0]
    # "…products that are not only effective but also" (a Clearleaf ad description of stop 45, seed 7)
    if words and words[0].casefold() == "also" and re.search(r"\bbut\s+also$", stripped, re.IGNORECASE):
        return "but also"
    # "Our products are not just fragrance-free" (a Clearleaf ad description of stop 47, seed 8): the
    # first half of "not just X but Y", its second never given
    half = _FIRST_HALF.search(stripped)
    if half:
        return half.group(1)
    # An adjective that waits for its noun after a preposition, an article or a colon: "order now for
    # fresh", "Tidewater Coffee Roasters: Fresh" (two Tidewater headlines of 2026-12-05); "Always fresh"
    # and "Made for the bold" are whole.
    if words:
        last = words[0].casefold()
        before = stripped[: -len(words[0])].rstrip()
        previous = _last_word(before)
        if last in _ATTRIBUTIVE and (before.endswith(":") or previous in DANGLING_EN):
            return words[0]
        # By its ending, only after "a" or a possessive: "for the curious" is whole, "Our Traceable" not.
        # Also after a verb of the trade that wants its object: "Tidewater roasts traceable" (a headline
        # of 2026-12-05, seed 7).
        # And after a preposition: "A Comprehensive Guide to Traceable" (stop 44's Tidewater blog title,
        # cut at a word).
        owner = (
            previous in _DETERMINERS
            or previous in TAKES_OBJECT
            or previous in _PREPOSITIONS
            or previous.endswith(("'s", "’s"))
        )
        if _ADJECTIVE_END.search(last) and owner:
            return words[0]
    # A compound adjective after a preposition or a determiner: "…pre-seasoned for long-lasting" (stop 50's
    # Hearthline ad description, cut before "use"). The words match without the hyphen, so take it whole.
    compound = re.search(r"(?:^|\s)([A-Za-z]+-([A-Za-z]+))$", stripped)
    if compound and compound.group(2).casefold() in _COMPOUND_ADJECTIVE_ENDS:
        before = stripped[: compound.start(1)].rstrip()
        previous = _last_word(before)
        if previous in _DETERMINERS or previous in _PREPOSITIONS or previous == "the":
            return compound.group(1)
    # A possessive waits for its noun ("Try Clearleaf's"); a department name does not ("Shop Women's").
    if words and words[0].casefold().endswith(("'s", "’s")) and words[0].casefold() not in _ELLIPTIC:
        return words[0]
    return None


_ATTRIBUTIVE = frozenset(
    (  # noqa: SIM905 - a word list reads better as one string
        "fresh fresher freshest new best finest perfect great delicious unique premium special favorite "
        "favourite ultimate latest top authentic everyday seasonal signature classic lightweight versatile "
        "gentle sturdy smooth hearty"
    ).split()
)
# Endings of adjectives, for the same test: "Discover Our Traceable" (a Tidewater subject of 2026-12-05).
_ADJECTIVE_END = re.compile(r"(?:able|ible|ful|ous|ive|less)$")
# The second halves of compound adjectives that need a noun: "long-lasting", "hard-wearing", "fast-acting".
_COMPOUND_ADJECTIVE_ENDS = frozenset(
    "lasting wearing acting looking performing fitting absorbing sounding tasting smelling drying".split()  # noqa: SIM905
)
_NEEDS_ITS_PLACE = frozenset(("based", "located", "situated", "headquartered", "nestled"))
_DETERMINERS = frozenset(("a", "an", "our", "your", "their", "its", "my", "his", "her"))
_PREPOSITIONS = frozenset(("to", "for", "of", "with", "from", "in", "into", "on", "at", "by", "about"))
TAKES_OBJECT = frozenset(
    "roasts makes offers brings delivers sells ships crafts creates serves builds brews grows sources".split()  # noqa: SIM905
)
_ELLIPTIC = frozenset(
    f"{w}{mark}s"
    for w in ("women", "men", "children", "kid", "girl", "boy", "baby", "babie", "people")
    for mark in "'’"
)


def _without_dangling(text: str) -> str:
    text = text.rstrip(_TRAILING_MARKS)
    for _ in range(6):  # "on the", "and the": a few words at most
        word = dangling_word(text)
        if not word or len(word) >= len(text):
            break
        text = text[: len(text.rstrip()) - len(word)].rstrip(_TRAILING_MARKS)
    return text


Cut = Literal["none", "hashtags", "sentences", "clauses", "words"]


def fit_to_limit(text: str, field: FieldSpec) -> str:
    """``text`` within the field's limits (see :func:`fit_with_cut`)."""
    return fit_with_cut(text, field)[0]


def fit_with_cut(text: str, field: FieldSpec) -> tuple[str, Cut]:
    """``text`` within the field's limits, and how it was cut: surplus hashtags dropped, whole sentences
    that fit kept, else whole clauses, else words without a dangling last word. A cut at ``words`` leaves
    a fragment more often than not; the compliance agent reports it (:mod:`agents.quality`)."""
    how: Cut = "none"
    if field.max_hashtags is not None:
        extra = list(HASHTAG.finditer(text))[field.max_hashtags :]
        for m in reversed(extra):  # keep the first ones
            text = text[: m.start()] + text[m.end() :]
            how = "hashtags"
        text = re.sub(r"[ \t]{2,}", " ", text).strip()

    def fits(candidate: str) -> bool:
        return not field.violations(candidate) or (not candidate.strip())

    if fits(text):
        return text, how
    # Hashtags that close the text stay: the cut shortens the prose before them.
    tail = _TRAILING_TAGS.search(text)
    if tail and tail.start() > 0 and field.max_chars and not field.max_words:
        tags = tail.group().strip()
        body, how = fit_with_cut(
            text[: tail.start()], field.model_copy(update={"max_chars": field.max_chars - len(tags) - 1})
        )
        return f"{body} {tags}" if body else tags, how
    limit = field.max_chars or len(text)
    if field.max_words:
        # Words -> character bound: walk until the word count is reached.
        limit = min(limit, _chars_for_words(text, field.max_words))
    head = text[:limit]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    if ends and ends[-1] >= limit // 3:
        return head[: ends[-1]].strip(), "sentences"
    if field.name.startswith("title"):
        # A title cut before a modifying tail, or at its last clause, reads whole: "Clearleaf: A Skincare
        # Company That Makes Fragrance-Free Products" of "… with Disclosed Ingredient Percentages and Test
        # Results" (a story blog of stop 44, whose cut title was replaced by a product's name that fitted
        # no article).
        marks = [m.start() for m in (*_TITLE_TAIL.finditer(head), *_CLAUSE_END.finditer(head))]
        for at in sorted((m for m in marks if m >= limit // 2), reverse=True):
            if not dangling_word(head[:at].strip()):
                return head[:at].strip(" ,;:-–—，、；："), "clauses"
    clauses = [m.start() for m in _CLAUSE_END.finditer(head) if m.start() >= limit // 4]
    if clauses:
        return _without_dangling(head[: clauses[-1]]).strip(), "clauses"
    if _CJK.search(head[-1:] or ""):
        return _without_dangling(head).strip(), "words"
    space = head.rfind(" ")
    return _without_dangling(head[:space] if space > 0 else head).strip(), "words"


_TITLE_TAIL = re.compile(
    r"\s+(?:with|within|that|and|for|from|in|by|at|on|through|since|where|while"
    r"|based|located|situated|headquartered|nestled)\s|\s+[—–-]\s",
    re.IGNORECASE,
)


def _chars_for_words(text: str, max_words: int) -> int:
    for end in range(len(text), 0, -1):
        if count_words(text[:end]) <= max_words:
            return end
    return 0
