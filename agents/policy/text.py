"""Evasion-robust text folding, with a map back to the original characters.

Contract: :func:`fold` turns text into a canonical form that rule terms are matched against —
NFKC (full-width → half-width), case-folded, traditional Chinese → simplified (character by
character, from OpenCC's table), Cyrillic/Greek look-alikes → Latin, zero-width and combining marks
removed — and keeps, for every folded character, the index of the original character it came from, so
a match in folded text is reported as a span of the text the user wrote. :func:`term_pattern` compiles a
term so that separators slipped between its characters ("最 佳", "最-佳", "g u a r a n t e e d",
"risk—free") still match, while Latin terms only match whole words ("cure" is not in "secure").
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import re
import unicodedata
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Characters someone may slip between the letters of a banned word. Clause punctuation (，。、；：！？)
# is deliberately absent: "确保，证件" must not read as "保证".
_SEPARATORS = r"\s\-_.·•*~|/\\+'\"`^=\u2010-\u2015\u2212\u30fb"
SEP = f"[{_SEPARATORS}]"

# Letters from other scripts that render like Latin ones. Upper-case forms are listed because case
# folding would otherwise turn Cyrillic "Р" into "р" before this map sees it (both read "p").
_HOMOGLYPHS = {
    **dict(zip("АВЕКМНОРСТХУЅІЈ", "abekmhopctxysij", strict=True)),
    **dict(zip("аеорсухѕіјԁһԛԝӏ", "aeopcyxsijdhqwl", strict=True)),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "abezhikmnoptyx", strict=True)),
    **dict(zip("αοριικνυχτ", "aopiikvuxt", strict=True)),
    "ɑ": "a",
    "ı": "i",
    "ɡ": "g",
    "ℓ": "l",
}


@functools.cache
def _traditional_to_simplified() -> dict[str, str]:
    """OpenCC's character table (``opencc-python-reimplemented``), one simplified form per character."""
    try:
        table = importlib.resources.files("opencc") / "dictionary" / "TSCharacters.txt"
        lines = table.read_text(encoding="utf-8").splitlines()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        log.warning("OpenCC's character table is not installed: traditional Chinese is matched as written")
        return {}
    mapping = {}
    for line in lines:
        trad, _, simp = line.partition("\t")
        if len(trad) == 1 and simp:
            mapping[trad] = simp.split()[0]
    return mapping


@functools.lru_cache(maxsize=8192)
def fold_char(ch: str) -> str:
    """The folded form of one character ("" for invisible ones)."""
    if unicodedata.category(ch) in ("Mn", "Me", "Cf"):  # combining marks, zero-width and other format chars
        return ""
    t2s = _traditional_to_simplified()
    out = unicodedata.normalize("NFKC", _HOMOGLYPHS.get(ch, ch)).casefold()
    return "".join(_HOMOGLYPHS.get(c, t2s.get(c, c)) for c in out)


@dataclass(frozen=True)
class Folded:
    """Folded text plus, for each folded character, the index of its original character."""

    source: str
    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original-text span of folded ``[start, end)``."""
        if start >= end:
            at = self.origin[start] if start < len(self.origin) else len(self.source)
            return at, at
        return self.origin[start], self.origin[end - 1] + 1

    def original(self, start: int, end: int) -> str:
        a, b = self.span(start, end)
        return self.source[a:b]


@functools.lru_cache(maxsize=2048)
def fold(text: str) -> Folded:
    """``text`` folded for matching, with the origin map (cached: a piece's fields are checked several
    times per campaign; :class:`Folded` is immutable)."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        folded = ch if ch.isascii() and not ch.isupper() else fold_char(ch)
        chars.append(folded)
        origin.extend([i] * len(folded))
    return Folded(text, "".join(chars), tuple(origin))


def fold_str(text: str) -> str:
    return fold(text).text


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@functools.lru_cache(maxsize=4096)
def term_pattern(term: str, tolerant: bool = True) -> re.Pattern[str]:
    """A regex over folded text for ``term``; ``tolerant`` lets separators sit between its characters."""
    folded = fold_str(term).strip()
    parts: list[str] = []
    after_char = False
    for ch in folded:
        if re.fullmatch(SEP, ch):
            if after_char:  # a space or hyphen in the term: "risk free" also matches "risk-free", "riskfree"
                parts.append(f"{SEP}{{0,3}}")
            after_char = False
            continue
        if after_char and tolerant:
            parts.append(f"{SEP}{{0,2}}")
        parts.append(re.escape(ch))
        after_char = True
    body = "".join(parts)
    if folded and _is_word_char(folded[0]):
        body = rf"(?<![a-z0-9]){body}"
    if folded and _is_word_char(folded[-1]):
        body = rf"{body}(?![a-z0-9])"
    return re.compile(body)


def find_spans(folded: Folded, terms: list[str], tolerant: bool = True) -> list[tuple[int, int]]:
    """Folded-text spans where any of ``terms`` occurs."""
    return list(_spans(folded.text, tuple(terms), tolerant))


@functools.lru_cache(maxsize=8192)
def _spans(text: str, terms: tuple[str, ...], tolerant: bool) -> tuple[tuple[int, int], ...]:
    # Cached: a campaign checks the same field text against the same rule lists several times.
    return tuple(m.span() for term in terms for m in term_pattern(term, tolerant).finditer(text) if m.group())


# A "." ends a sentence only before a space or the end: "2.1%" and "No.1" stay inside theirs.
_SPLIT_CJK = re.compile(rf"(?<=[\u4e00-\u9fff]){SEP}{{1,3}}(?=[\u4e00-\u9fff])")
_SPACED_LETTERS = re.compile(r"(?<![a-z0-9])[a-z](?:[ .\-_*·]{1,2}[a-z](?![a-z0-9])){3,}")


def compact(folded: Folded) -> Folded:
    """``folded`` with evasion separators removed where no reader would put them: between Chinese
    characters ("糖·尿·病") and inside letter-by-letter spelling ("i g n o r e  a l l" -> "ignore all").

    For regexes (rule ``patterns``, injection patterns) that cannot tolerate separators themselves.
    """
    text = folded.text
    drop = [False] * len(text)
    for m in _SPLIT_CJK.finditer(text):
        for i in range(*m.span()):
            drop[i] = True
    for m in _SPACED_LETTERS.finditer(text):
        run = m.group()
        for offset, ch in enumerate(run):
            i = m.start() + offset
            # a single separator joins letters; two or more mark a word break, kept as one space
            if not ch.isalnum():
                single = not (run[offset - 1 : offset].isspace() and ch.isspace()) and not (
                    ch.isspace() and run[offset + 1 : offset + 2].isspace()
                )
                drop[i] = single or (ch.isspace() and run[offset - 1 : offset].isspace())
    kept = [i for i in range(len(text)) if not drop[i]]
    return Folded(folded.source, "".join(text[i] for i in kept), tuple(folded.origin[i] for i in kept))


_SENTENCE_END = re.compile(r"[!?。！？;；\n]|\.(?=\s|$)")


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` that holds ``[start, end)``."""
    left = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    right_match = _SENTENCE_END.search(text, end)
    return text[left : right_match.end() if right_match else len(text)]
