"""Evasion-robust text folding, with a map back to the original characters.

Contract: :func:`fold` turns text into a canonical form that rule terms are matched against —
NFKC (full-width → half-width), case-folded, traditional Chinese → simplified (character by
character, from OpenCC's table), Cyrillic/Greek look-alikes → Latin, Latin letters' accents dropped,
zero-width and combining marks removed — and keeps, for every folded character, the index of the original
character it came from, so a match in folded text is reported as a span of the text the user wrote.
:func:`term_pattern` compiles a term so that separators slipped between its characters ("最 佳", "最-佳",
"g u a r a n t e e d", "risk—free", "g🧠e🧠n🧠i🧠u🧠s") still match, while Latin terms only match whole words
("cure" is not in "secure").

Every function here is linear in the length of the text (the checker's inputs are untrusted): term
patterns are bounded, caches keyed on text hold short texts plus the last few long ones (the text being
checked), and :class:`SentenceIndex` finds the sentence around a span without rescanning the text from
its start.
"""

from __future__ import annotations

import bisect
import functools
import importlib.resources
import logging
import re
import unicodedata
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import re2

log = logging.getLogger(__name__)

# Texts up to this length are cached (campaign fields are checked several times); longer ones are
# not, so a few pasted megabytes cannot pin gigabytes in an lru_cache.
CACHE_MAX_CHARS = 4096

# Python's `\s` (what str.isspace() calls a space), as an RE2 character-class body: RE2's own `\s` is
# ASCII only, and a pattern moved to RE2 must not start treating U+3000 or U+00A0 as a word character.
RE2_SPACE = r"\s\v\x{1c}-\x{1f}\x{85}\p{Z}"


@functools.lru_cache(maxsize=4096)
def linear_regex(pattern: str) -> Any:
    r"""``pattern`` compiled by RE2, whose matching time is linear in the text (no backtracking).

    RE2 has no lookaround or backreferences, and its ``\b``, ``\w``, ``\d`` and ``\s`` are ASCII;
    flags go inline (``(?i)``, ``(?s)``). Raises ``ValueError`` with RE2's reason when it cannot compile.
    """
    options = re2.Options()
    options.log_errors = False  # the error comes back as an exception; RE2 would also print it
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "not valid RE2 syntax"
        if isinstance(reason, bytes):  # the binding hands back RE2's message as bytes
            reason = reason.decode("utf-8", "replace")
        raise ValueError(str(reason)) from None


class Coverage:
    """Which characters of a text are already taken by a match: a byte per character, so "does this
    span overlap an earlier one" costs the span's length, not the number of earlier matches (which
    made texts with 100k matches quadratic)."""

    def __init__(self, length: int) -> None:
        self._taken = bytearray(length + 1)

    def overlaps(self, start: int, end: int) -> bool:
        return self._taken.find(1, start, end) != -1

    def add(self, start: int, end: int) -> None:
        self._taken[start:end] = b"\x01" * (end - start)


# Characters someone may slip between the letters of a banned word. Clause punctuation (，。、；：！？)
# is deliberately absent: "确保，证件" must not read as "保证".
# Emoji between the letters of a word are separators too ("g🧠e🧠n🧠i🧠u🧠s", "秒🔥杀": twelfth blind set).
_SEPARATORS = r"\s\-_.·•*~|/\\+'\"`^=\u2010-\u2015\u2212\u30fb\u2600-\u27bf\U0001f300-\U0001faff"
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
    if ch in "\u2122\u2120":  # ™ and ℠ are marks on the word before, not "tm" glued to it ("Effortless™")
        return ""
    t2s = _traditional_to_simplified()
    out = unicodedata.normalize("NFKC", _HOMOGLYPHS.get(ch, ch)).casefold()
    if "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff":  # a Latin letter with a mark: its base
        out = "".join(c for c in unicodedata.normalize("NFD", out) if unicodedata.category(c) != "Mn")
    return "".join(_HOMOGLYPHS.get(c, t2s.get(c, c)) for c in out)


@functools.lru_cache(maxsize=8)  # the text being checked, asked once per hit: converted once
def simplified_in_place(text: str) -> str:
    """``text`` with each traditional Chinese character that has a one-character simplified form replaced
    by it, and nothing else changed: the same length, so an index into one is an index into the other
    (for the context checks that read the words around a hit in the text as written)."""
    t2s = _traditional_to_simplified()
    return "".join(t2s.get(ch, ch) if len(t2s.get(ch, ch)) == 1 else ch for ch in text)


def _traditional(ch: str) -> bool:
    return ch in _traditional_to_simplified() and _traditional_to_simplified()[ch] != ch


def traditional_form(written: str, term: str, text: str) -> bool:
    """Whether ``written`` is ``term`` in traditional characters ("茶嶼" for "茶屿"), inside a ``text`` that
    is itself written in traditional characters (one more besides ``written``'s): Taiwan and Hong Kong
    copy writes a Chinese brand name that way, and it is the same name, spelt right for its script."""
    if len(written) != len(term) or written == term:
        return False
    t2s = _traditional_to_simplified()
    if any(a != b and t2s.get(a) != b for a, b in zip(written, term, strict=True)):
        return False
    return sum(_traditional(ch) for ch in text) > sum(_traditional(ch) for ch in written)


@dataclass(frozen=True)
class Folded:
    """Folded text plus, for each folded character, the index of its original character."""

    source: str
    text: str
    origin: Sequence[int]
    """A ``range`` when folding changed no character's length, else a compact ``array``."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original-text span of folded ``[start, end)``."""
        if start >= end:
            at = self.origin[start] if start < len(self.origin) else len(self.source)
            return at, at
        return self.origin[start], self.origin[end - 1] + 1

    def original(self, start: int, end: int) -> str:
        a, b = self.span(start, end)
        return self.source[a:b]


def fold(text: str) -> Folded:
    """``text`` folded for matching, with the origin map (cached: a piece's fields are checked several
    times per campaign, a long text is folded by several detectors; :class:`Folded` is immutable)."""
    return _fold_short(text) if len(text) <= CACHE_MAX_CHARS else _fold_long(text)


def _fold(text: str) -> Folded:
    if text.isascii():  # ASCII folds to its lower case, one character for one: no map to build
        return Folded(text, text.lower(), range(len(text)))
    chars: list[str] = []
    origin = array("q")
    for m in _ASCII_RUN_OR_CHAR.finditer(text):  # ASCII runs in one step, other characters one by one
        run = m.group()
        folded = run.lower() if run.isascii() else fold_char(run)
        chars.append(folded)
        if len(folded) == len(run):
            origin.extend(range(m.start(), m.end()))
        else:
            origin.extend([m.start()] * len(folded))
    return Folded(text, "".join(chars), origin)


_ASCII_RUN_OR_CHAR = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]")
_fold_short = functools.lru_cache(maxsize=2048)(_fold)
# The texts being checked: one per channel checked at once (agents.fanout runs up to a backend's
# max_concurrency), each checked rule by rule; 8 keeps them while bounding what huge `check` inputs hold.
_fold_long = functools.lru_cache(maxsize=8)(_fold)


def fold_str(text: str) -> str:
    return fold(text).text


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


# Room for a brand's largest term list (MAX_TERMS_PER_RULE) plus the packs' own: a smaller cache would
# recompile every term on every check once a brand has a few thousand.
@functools.lru_cache(maxsize=16384)
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
        # The boundary check sits after the first character, not before it: a pattern that starts
        # with a literal lets `re` scan for that character at C speed (about 30x faster, which is
        # what keeps a brand with thousands of banned terms fast).
        first = parts[0]
        # A phrase does not start on the second half of a hyphenated word: "free money" is not in
        # "fee-free money transfers" (a blind-set sentence of stop 41 blocked for it). A one-word term
        # may ("miracle-cure" uses "cure").
        compound = rf"(?<![a-z0-9]-{first})" if re.search(SEP, folded) else ""
        body = rf"{first}(?<![a-z0-9]{first}){compound}{body[len(first) :]}"
    if folded and _is_word_char(folded[-1]):
        body = rf"{body}(?![a-z0-9])"
    return re.compile(body)


def find_spans(folded: Folded, terms: list[str], tolerant: bool = True) -> list[tuple[int, int]]:
    """Folded-text spans where any of ``terms`` occurs (one linear scan per term)."""
    if len(folded.text) <= CACHE_MAX_CHARS:
        return list(_spans_cached(folded.text, tuple(terms), tolerant))
    return list(_spans(folded.text, terms, tolerant))


@functools.lru_cache(maxsize=8192)
def _spans_cached(text: str, terms: tuple[str, ...], tolerant: bool) -> tuple[tuple[int, int], ...]:
    # Cached: a campaign checks the same field text against the same rule lists several times.
    return _spans(text, terms, tolerant)


def _spans(text: str, terms: Sequence[str], tolerant: bool) -> tuple[tuple[int, int], ...]:
    # A term can only match where its characters stand in a row once separators are taken out: a
    # substring test (C speed) skips the rest, so a brand's thousands of terms are neither compiled
    # nor scanned for unless they can be there.
    bare = _without_separators(text)
    return tuple(
        m.span()
        for term in terms
        if _bare_term(term) in bare
        for m in term_pattern(term, tolerant).finditer(text)
        if m.group()
    )


_SEP_RUNS = re.compile(f"{SEP}+")


@functools.lru_cache(maxsize=8)
def _without_separators(text: str) -> str:
    return _SEP_RUNS.sub("", text)


@functools.lru_cache(maxsize=16384)
def _bare_term(term: str) -> str:
    return _SEP_RUNS.sub("", fold_str(term).strip())


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
    if True not in drop:  # nothing to remove (most texts): skip rebuilding the text and its map
        return folded
    kept = [i for i in range(len(text)) if not drop[i]]
    origin = array("q", (folded.origin[i] for i in kept))
    return Folded(folded.source, "".join(text[i] for i in kept), origin)


_SENTENCE_END = re.compile(r"[!?。！？;；\n]|\.(?=\s|$)")


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` that holds ``[start, end)``."""
    a, b = SentenceIndex(text).bounds(start, end)
    return text[a:b]


class SentenceIndex:
    """Sentence ends of one text, found once, so the sentence around each of many hits is a binary
    search instead of a scan from the start of the text (which made many hits quadratic)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._ends = [m.end() for m in _SENTENCE_END.finditer(text)]  # each mark is one character

    def bounds(self, start: int, end: int) -> tuple[int, int]:
        """``[left, right)`` of the sentence that holds ``[start, end)``."""
        i = bisect.bisect_right(self._ends, start)
        left = self._ends[i - 1] if i else 0
        # A "." right before the span ends a sentence there (as a scan that stops at the span's start
        # would see it: "." then the end of what it scanned).
        if start > 0 and self.text[start - 1] == ".":
            left = start
        j = bisect.bisect_right(self._ends, end)  # the first mark that starts at or after `end`
        return left, self._ends[j] if j < len(self._ends) else len(self.text)


_CJK_RUN = 64  # characters of context either side of a hit that segmentation looks at


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


@functools.lru_cache(maxsize=1)
def _segmenter() -> Any:
    import jieba  # its dictionary is in the wheel: nothing is downloaded

    jieba.setLogLevel(logging.WARNING)
    return jieba


def word_frequency(word: str) -> int:
    """How often jieba's dictionary counts ``word`` (0 for a word it does not know)."""
    segmenter = _segmenter()
    segmenter.dt.check_initialized()
    return int(segmenter.dt.FREQ.get(word) or 0)


def segment(text: str) -> list[str]:
    """``text`` cut into words by jieba's dictionary (no HMM guesses)."""
    return list(_segmenter().cut(text, HMM=False))


# Measure words that a number before them binds: a term that starts on one starts inside the quantity.
_MEASURE_WORDS = frozenset("秒分时天日周月年次个岁斤克米")
_CHINESE_NUMERALS = frozenset("零一二三四五六七八九十百千万两几半〇")


def _is_numeral(ch: str) -> bool:
    return ch.isdigit() or ch in _CHINESE_NUMERALS


def splits_a_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]``, all Chinese characters, starts inside a word of its run of Chinese
    text ("包过" in "打包过来": 打包/过来; "保本" in "环保本色": 环保/本色). Ending inside a word is fine:
    compounds grow at the end ("速成" in "速成班"). Segmentation is jieba's dictionary (no HMM guesses)
    on the run folded to Simplified Chinese, at most :data:`_CJK_RUN` characters either side. A hit
    that is not all Chinese, or has no Chinese character right before it, never splits a word, except a
    measure word after a number: 秒过 in "30秒过后" starts on the 秒 of "30秒", a time (30秒/过后), where
    segmentation alone cannot tell it from 最好 in "最好喝" (最/好喝), the superlative."""
    if start >= end or not all(_is_cjk(ch) for ch in text[start:end]):
        return False
    if text[start] in _MEASURE_WORDS and start > 0 and _is_numeral(text[start - 1]):
        return True
    left = start
    while left > 0 and start - left < _CJK_RUN and _is_cjk(text[left - 1]):
        left -= 1
    right = end
    while right < len(text) and right - end < _CJK_RUN and _is_cjk(text[right]):
        right += 1
    if left == start:  # nothing Chinese before it: it starts a word
        return False
    run = text[left:right]
    simplified = fold_str(run)
    at = 0
    for word in segment(simplified if len(simplified) == len(run) else run):
        if at == start - left:
            return False
        if at > start - left:
            return True
        at += len(word)
    return True


# --- Disguised spellings of a brand's banned terms -------------------------------------------------------

# Digits and symbols written for letters in a word of two letters or more ("mir@cle", "fr33 m0ney"); "!"
# and "|" only inside one (after a word they are punctuation).
_LEET = {"@": "a", "4": "a", "3": "e", "1": "i", "0": "o", "$": "s", "5": "s", "7": "t", "!": "i", "|": "l"}
_LEET_TOKEN = re.compile(r"[a-z@4310$57!|]+")


def _unleet(folded: Folded) -> Folded | None:
    """``folded`` with look-alike digits and symbols inside words read as letters, one character for
    one (the origin map stays valid); ``None`` when no word has one."""
    chars = list(folded.text)
    changed = False
    for m in _LEET_TOKEN.finditer(folded.text):
        token = m.group()
        if sum(ch.isalpha() for ch in token) < 2 or token.isalpha():
            continue  # "5g", "3d", "mp3" have one letter or none to be a word with
        for offset, ch in enumerate(token):
            if ch not in _LEET:
                continue
            inside = 0 < offset < len(token) - 1  # "!" after a word is punctuation
            if ch not in "!|" or inside:
                chars[m.start() + offset] = _LEET[ch]
                changed = True
    return Folded(folded.source, "".join(chars), folded.origin) if changed else None


@functools.lru_cache(maxsize=16384)
def _readings(ch: str) -> frozenset[str]:
    """Toneless pinyin readings of one Chinese character, every reading of a heteronym."""
    from pypinyin import Style, pinyin  # its dictionaries load on first use (about 0.2 s)

    return frozenset(pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")[0] or ())


_PINYIN_UNIT = re.compile(r"[\u4e00-\u9fff]|(?<![a-z])[a-z]{1,6}(?![a-z])")
_JOIN = re.compile(f"{SEP}{{0,2}}")


def _sounds(unit: str) -> frozenset[str]:
    """What a unit of :func:`_pinyin_runs` may stand for: a pinyin syllable itself, a Chinese character
    each of its readings."""
    return frozenset((unit,)) if unit.isascii() else _readings(unit)


def _sound_alike(unit: str, ch: str) -> bool:
    if unit == ch:
        return True
    return unit in _readings(ch) if unit.isascii() else bool(_readings(unit) & _readings(ch))


_Unit = tuple[int, int, str]


@functools.lru_cache(maxsize=2)
def _pinyin_runs(text: str) -> tuple[list[_Unit], list[int], dict[tuple[str, str], list[int]]]:
    """The text's Chinese characters and pinyin syllables as (start, end, unit); for each unit, the end
    of its run (units joined by nothing but separators); and where each pair of sounds starts in a run,
    under (first unit's sound, second unit's sound). Cached: each rule of a pack looks its terms up in
    the same text."""
    units: list[_Unit] = []
    run_end: list[int] = []
    run_start = 0
    for m in _PINYIN_UNIT.finditer(text):
        if units and _JOIN.fullmatch(text, units[-1][1], m.start()) is None:
            run_end += [len(units)] * (len(units) - run_start)
            run_start = len(units)
        units.append((m.start(), m.end(), m.group()))
    run_end += [len(units)] * (len(units) - run_start)
    starts: dict[tuple[str, str], list[int]] = {}
    for i in range(len(units) - 1):
        if run_end[i] > i + 1:
            for first in _sounds(units[i][2]):
                for second in _sounds(units[i + 1][2]):
                    starts.setdefault((first, second), []).append(i)
    return units, run_end, starts


def _homophone_spans(text: str, terms: Sequence[str], pinyin_only: bool = False) -> list[tuple[int, int]]:
    """Spans where a Chinese term is written with a character of the same sound or its pinyin in place of
    some of its characters ("蓄命水" for 续命水, "jie径" for 捷径), at least one of them as written, or
    wholly in pinyin ("xue ba" for 学霸) in a text with Chinese in it. With ``pinyin_only`` every swapped
    character must be pinyin, and a two-character term wholly in pinyin must have a Chinese character
    next to it (two syllables alone are too easily English words, "long an").

    A term is looked up where the sounds of its first two characters start in the text, so the text is
    read once for all of a pack's rules (100,000 characters of "最" took 18 s when each rule read every
    window of the text)."""
    chinese = [t for t in dict.fromkeys(terms) if len(t) >= 2 and all(_is_cjk(ch) for ch in t)]
    if not chinese or not any(_is_cjk(ch) for ch in text):
        return []
    units, run_end, starts = _pinyin_runs(text)
    found = []
    for term in chinese:
        at = {
            place
            for first in _readings(term[0])
            for second in _readings(term[1])
            for place in starts.get((first, second), ())
        }
        for i in sorted(at):
            if i + len(term) > run_end[i]:
                continue
            window = units[i : i + len(term)]
            pairs = list(zip((u[2] for u in window), term, strict=True))
            if not all(
                u == ch or ((u.isascii() or not pinyin_only) and _sound_alike(u, ch)) for u, ch in pairs
            ):
                continue
            exact = sum(u == ch for u, ch in pairs)
            # wholly in pinyin counts too, in Chinese copy ("从学渣到 xué bà", twelfth blind set)
            spelled = exact == 0 and all(u.isascii() for u, _ in pairs)
            if (
                pinyin_only
                and spelled
                and len(term) < 3
                and not _next_to_chinese(text, window[0][0], window[-1][1])
            ):
                continue
            if (0 < exact < len(term) or spelled) and not _ordinary_words(pairs):
                found.append((window[0][0], window[-1][1]))
    return sorted(found)


def _next_to_chinese(text: str, start: int, end: int) -> bool:
    """Whether the nearest character before ``start`` or after ``end``, separators aside, is Chinese."""
    before = text[:start].rstrip(" \t-_·.*")
    after = text[end:].lstrip(" \t-_·.*")
    return bool(before and _is_cjk(before[-1])) or bool(after and _is_cjk(after[0]))


def _ordinary_words(pairs: list[tuple[str, str]]) -> bool:
    """Whether a sound-alike is just other words: a swapped character that is part of a dictionary word
    of the span ("包裹", a parcel, sounds like the banned "包过"; "蓄命水" has no such word)."""
    written = "".join(u for u, _ in pairs)
    if not all(_is_cjk(ch) for ch in written):
        return False  # pinyin in Chinese copy is a disguise
    at = 0
    for word in segment(written):
        if len(word) > 1 and any(u != ch for u, ch in pairs[at : at + len(word)]):
            return True
        at += len(word)
    return False


def disguised_spans(folded: Folded, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Folded-text spans where one of ``terms`` is written in disguise: letters swapped for look-alike
    digits or symbols ("mir@cle"), or Chinese characters swapped for others of the same sound or for
    pinyin ("蓄命水", "jie径"). For a brand's own banned terms: a list the brand chose, where a sound-alike
    is the point of the spelling. Spans that :func:`find_spans` finds as written are not repeated."""
    found: list[tuple[int, int]] = []
    unleeted = _unleet(folded)
    if unleeted is not None:
        latin = [t for t in terms if t.isascii()]
        spans = find_spans(unleeted, latin)
        found += [s for s in spans if unleeted.text[s[0] : s[1]] != folded.text[s[0] : s[1]]]
    found += _homophone_spans(folded.text, [fold_str(t) for t in terms])
    return found


def pinyin_spans(folded: Folded, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Folded-text spans where a Chinese term of ``terms`` is written partly or wholly in pinyin in
    Chinese copy ("zui高" for 最高, "三gao" for 三高, "wen zhuan bu pei" for 稳赚不赔): for a rule pack's
    terms, where a same-sounding character is too often an ordinary word but pinyin is a disguise (the
    thirteenth blind set's misses). Spans :func:`find_spans` finds as written are not repeated."""
    return _homophone_spans(folded.text, [fold_str(t) for t in terms], pinyin_only=True)
