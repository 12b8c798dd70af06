"""Language-aware chunking of documents into citable passages.

Contract: :func:`chunk_document` splits a document into sentence-aligned passages of at most
``max_chars`` characters (CJK counts one character each), ending sentences at Western *and* Chinese
punctuation (。！？；…). Each :class:`Passage` has a stable id ``<doc path>#<n>-<sha8>``: the same text
at the same place gets the same id on every run, and any edit changes it, so a citation can never
silently point at changed content. Markdown headings are kept as the passage's ``section``.

Chunking is linear in the document's length whatever its content (one character repeated, a million
". ", CJK punctuation only): the regexes below cannot backtrack, and no step rescans text already
placed in a passage.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;…])|(?<=[.])(?=\s)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*)$")


@dataclass(frozen=True)
class Passage:
    """A citable piece of a document."""

    id: str
    doc: str
    chunk: int
    text: str
    section: str = ""

    @property
    def embed_text(self) -> str:
        """What gets embedded: the section heading gives short passages their context."""
        return f"{self.section}\n{self.text}" if self.section and self.section not in self.text else self.text


def split_sentences(text: str) -> list[str]:
    """Split one paragraph into sentences (Chinese and Western punctuation)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def keep_sentences(text: str, keep: Callable[[str], bool]) -> str:
    """``text`` with only the sentences ``keep`` accepts, line structure kept (lines emptied by the
    filter disappear); sentences are rejoined without spaces in CJK lines, with one elsewhere."""
    return map_sentences(text, lambda sentence: sentence if keep(sentence) else None)


def map_sentences(text: str, change: Callable[[str], str | None]) -> str:
    """``text`` with each sentence replaced by what ``change`` makes of it (None or "": dropped), joined
    as :func:`keep_sentences` joins them."""
    out = []
    for line in text.split("\n"):
        kept = [changed for s in split_sentences(line) if (changed := change(s))]
        if kept or not line.strip():
            cjk = sum(_is_cjk(c) for c in line) > len(line) / 4
            out.append(("" if cjk else " ").join(kept))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _hard_split(sentence: str, max_chars: int) -> list[str]:
    # A "sentence" longer than a chunk (a table row, a run-on list) is cut at spaces/commas when possible.
    # It walks an offset instead of slicing off the rest each time: that copy made a 1 MB sentence
    # quadratic. ``sentence`` comes stripped from split_sentences.
    out: list[str] = []
    start, end = 0, len(sentence)
    while end - start > max_chars:
        cut = max(sentence.rfind(sep, start, start + max_chars) for sep in (" ", "，", ",", "、"))
        cut = cut + 1 if cut - start > max_chars // 2 else start + max_chars
        out.append(sentence[start:cut].strip())
        start = cut
        while start < end and sentence[start].isspace():
            start += 1
    if start < end:
        out.append(sentence[start:])
    return out


def passage_id(doc: str, chunk: int, text: str) -> str:
    """Stable id: document path, chunk number and a hash of the passage text."""
    return f"{doc}#{chunk}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


def chunk_document(doc: str, text: str, *, max_chars: int = 360) -> list[Passage]:
    """Split ``text`` (of document ``doc``) into passages of at most ``max_chars`` characters."""
    units: list[tuple[str, str]] = []  # (section, sentence)
    section = ""
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            section = heading.group(1).strip()
            units.append((section, "\f"))  # a heading always starts a new passage
            continue
        for sentence in split_sentences(line):
            units.extend((section, piece) for piece in _hard_split(sentence, max_chars))
        units.append((section, "\n"))

    passages: list[Passage] = []
    # The passage being built, joined as it grows: re-joining all its units for every new unit made
    # documents of one-character sentences ("。" * 10**6) cost max_chars times their length.
    body = ""
    empty = True  # no unit yet (body may still be "" after a lone newline unit)
    current_section = ""

    def flush() -> None:
        nonlocal body, empty
        text = body.strip()
        if text:
            passages.append(
                Passage(passage_id(doc, len(passages), text), doc, len(passages), text, current_section)
            )
        body, empty = "", True

    for sec, unit in units:
        if unit == "\f":
            flush()
            current_section = sec
            continue
        if unit != "\n" and len(body) + _gap(body, unit) + len(unit) > max_chars:
            flush()
            current_section = sec
        if unit == "\n" and empty:
            continue
        body = body.rstrip() + "\n" if unit == "\n" else body + " " * _gap(body, unit) + unit
        empty = False
    flush()
    return passages


def _gap(body: str, part: str) -> int:
    """1 if joining ``part`` onto ``body`` needs a space (between two non-CJK words), else 0."""
    return 0 if not body or body.endswith("\n") or _is_cjk(body[-1]) or _is_cjk(part[0]) else 1


def _is_cjk(ch: str) -> bool:
    return (
        "\u2e80" <= ch <= "\u9fff"
        or "\uf900" <= ch <= "\ufaff"
        or "\uff00" <= ch <= "\uffef"
        or "\u3000" <= ch <= "\u303f"
    )
