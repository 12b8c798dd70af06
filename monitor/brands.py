"""Which brands a mention names: the monitored brand and its rivals, by name, alias or misspelling.

Contract: :class:`BrandMatcher` is built once from a :class:`~knowledge.brand.Brand` (its name, its
``monitor.aliases``, its ``competitors`` and ``monitor.competitors`` with their aliases) and
:meth:`BrandMatcher.find` returns the canonical names a text mentions, the monitored brand first.

Matching works on folded text (:func:`policy.text.fold`: case, full-width and traditional Chinese
normalised), with plain string scans, no regular expressions:

- a name in Chinese (or any form with a CJK character) matches as a substring;
- a Latin name matches whole words, also with its spaces dropped or added ("Clear Leaf" for Clearleaf,
  "Tide Water"), and the leading word(s) of a name whose rest is a generic business word
  ("Tidewater" for "Tidewater Coffee Roasters", "PureDerm" for "PureDerm Labs");
- a Latin form of six letters or more also matches a word within one edit (two from nine letters):
  "Wanderley", "Clearleef". Short names are matched exactly only: an edit away from a short name is
  usually another word.

Where forms overlap, the longest match wins ("山野有约" is not also "山野").
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.brand import Brand
from policy.text import fold_str

GENERIC_WORDS = frozenset(
    """
    co co. company inc inc. ltd llc corp group labs lab skin skincare cosmetics beauty coffee
    roasters roasting roastery tea tours tour travel travels holidays studio studios store shop
    official app foods kitchen cookware goods academy
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def latin_words(text: str) -> list[tuple[str, int, int]]:
    """Latin words (letters, digits, '&', apostrophes) of folded text, with their spans."""
    out: list[tuple[str, int, int]] = []
    start = -1
    for i, ch in enumerate(text + " "):
        inside = ch.isascii() and (ch.isalnum() or ch in "&'")
        if inside and start < 0:
            start = i
        elif not inside and start >= 0:
            out.append((text[start:i].strip("'"), start, i))
            start = -1
    return out


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (transpositions count one), or ``limit + 1`` once over it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@dataclass(frozen=True)
class _Form:
    brand: str
    words: tuple[str, ...]  # Latin forms: the words; CJK forms: one item, the folded form
    cjk: bool

    @property
    def joined(self) -> str:
        return "".join(self.words)


def _latin_forms(name: str) -> list[tuple[str, ...]]:
    words = tuple(w for w, _, _ in latin_words(fold_str(name)) if w)
    if not words:
        return []
    forms = [words]
    cut = len(words)
    while cut > 1 and words[cut - 1] in GENERIC_WORDS:
        cut -= 1
        forms.append(words[:cut])
    return forms


class BrandMatcher:
    """Finds the monitored brand and its rivals in a text (see the module docstring)."""

    def __init__(self, brand: Brand) -> None:
        self.brand = brand.name
        rivals: dict[str, list[str]] = {name: [] for name in brand.competitors}
        for name, aliases in brand.monitor.competitors.items():
            rivals.setdefault(name, []).extend(aliases)
        self.rivals = list(rivals)
        names = {brand.name: [brand.name, *brand.monitor.aliases]}
        names.update({rival: [rival, *aliases] for rival, aliases in rivals.items()})
        self._forms: list[_Form] = []
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for canonical, surfaces in names.items():
            for surface in surfaces:
                folded = fold_str(surface).strip()
                candidates: list[tuple[str, ...]]
                if any(is_cjk(ch) for ch in folded):
                    candidates = [(folded,)]
                    cjk = True
                else:
                    candidates = _latin_forms(surface)
                    cjk = False
                for words in candidates:
                    if (canonical, words) not in seen and words and words[0]:
                        seen.add((canonical, words))
                        self._forms.append(_Form(canonical, words, cjk))

    @property
    def names(self) -> list[str]:
        """Every tracked brand: the monitored one first, then the rivals."""
        return [self.brand, *self.rivals]

    def find(self, text: str) -> list[str]:
        """Canonical names of the brands ``text`` mentions: the monitored brand first, then rivals in the
        order they were configured."""
        folded = fold_str(text)
        words = latin_words(folded)
        spans: list[tuple[int, int, str]] = []  # (start, end, brand)
        for form in self._forms:
            if form.cjk:
                at = folded.find(form.words[0])
                while at >= 0:
                    spans.append((at, at + len(form.words[0]), form.brand))
                    at = folded.find(form.words[0], at + 1)
            else:
                spans.extend(self._latin_spans(form, words))
        found: set[str] = set()
        taken: list[tuple[int, int]] = []
        for start, end, name in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[2] != self.brand, s[0])):
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            found.add(name)
        return [name for name in self.names if name in found]

    def _latin_spans(self, form: _Form, words: list[tuple[str, int, int]]) -> list[tuple[int, int, str]]:
        out = []
        joined = form.joined
        limit = 0 if len(joined) < 6 else 1 if len(joined) < 9 else 2
        for i in range(len(words)):
            text = ""
            for j in range(i, min(i + len(form.words) + 1, len(words))):
                text += words[j][0]
                if len(text) > len(joined) + limit:
                    break
                exact = text == joined
                near = limit and text[:1] == joined[:1] and edit_distance(text, joined, limit) <= limit
                if exact or near:
                    out.append((words[i][1], words[j][2], form.brand))
                    break
        return out
