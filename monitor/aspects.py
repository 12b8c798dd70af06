"""What a mention is about (price, service, delivery, …): aspects found from the words that signal them.

Contract: :class:`AspectFinder` is built from the built-in lexicon (``monitor/data/aspects.yaml``: the
``common`` aspects plus the brand's industry) and the brand's ``monitor.aspects``; :meth:`find` returns
the aspects a text names, in lexicon order. English words match whole words (a trailing ``*`` matches a
prefix, a phrase matches consecutive words, a symbol such as ``$`` matches anywhere); Chinese words match
as substrings of the folded text. Plain scans, no regular expressions, so time grows with the text.

Why a lexicon: aspects must be explainable to the person reading the report ("service: 客服, 不回"), work
in both languages the same way, and be extended by a brand in one line of YAML. An embedding classifier
would need labelled data per aspect per industry that no brand has.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from core.yamlio import load_yaml
from knowledge.brand import Brand
from monitor.brands import is_cjk, latin_words
from policy.text import fold_str

LEXICON = Path(__file__).resolve().parent / "data" / "aspects.yaml"


@functools.cache
def builtin_lexicon() -> dict[str, dict[str, dict[str, list[str]]]]:
    data: Any = load_yaml(LEXICON)
    return data  # type: ignore[no-any-return]


class AspectFinder:
    """Aspects of a brand's industry (see the module docstring)."""

    def __init__(self, brand: Brand) -> None:
        lexicon = builtin_lexicon()
        words: dict[str, list[str]] = {}
        for section in ("common", brand.industry):
            for aspect, by_lang in lexicon.get(section, {}).items():
                words.setdefault(aspect, []).extend(w for ws in by_lang.values() for w in ws)
        for aspect, extra in brand.monitor.aspects.items():
            words.setdefault(aspect, []).extend(extra)
        self.aspects = list(words)
        self._cjk: list[tuple[str, str]] = []
        self._symbols: list[tuple[str, str]] = []
        self._phrases: list[tuple[str, tuple[str, ...], bool]] = []  # aspect, words, prefix on last word
        for aspect, items in words.items():
            for item in items:
                folded = fold_str(str(item)).strip()
                if not folded:
                    continue
                if any(is_cjk(ch) for ch in folded):
                    self._cjk.append((aspect, folded))
                    continue
                prefix = folded.endswith("*")
                tokens = tuple(w for w, _, _ in latin_words(folded.rstrip("*")))
                if tokens:
                    self._phrases.append((aspect, tokens, prefix))
                else:
                    self._symbols.append((aspect, folded.rstrip("*")))

    def find(self, text: str) -> list[str]:
        folded = fold_str(text)
        tokens = [w for w, _, _ in latin_words(folded)]
        found: set[str] = set()
        for aspect, word in self._cjk:
            if aspect not in found and word in folded:
                found.add(aspect)
        for aspect, symbol in self._symbols:
            if aspect not in found and symbol in folded:
                found.add(aspect)
        if tokens:
            starts: dict[str, list[int]] = {}
            for i, token in enumerate(tokens):
                starts.setdefault(token, []).append(i)
            for aspect, phrase, prefix in self._phrases:
                if aspect in found:
                    continue
                if _has_phrase(tokens, starts, phrase, prefix):
                    found.add(aspect)
        return [a for a in self.aspects if a in found]


def _matches(token: str, word: str, prefix: bool) -> bool:
    if prefix:
        return token.startswith(word)
    return token == word or token == word + "s" or token == word + "es"


def _has_phrase(
    tokens: list[str], starts: dict[str, list[int]], phrase: tuple[str, ...], prefix: bool
) -> bool:
    first, last = phrase[0], len(phrase) - 1
    if len(phrase) == 1:
        if not prefix and (first in starts or first + "s" in starts or first + "es" in starts):
            return True
        return prefix and any(t.startswith(first) for t in starts)
    for i in starts.get(first, []):
        if i + last < len(tokens) and all(
            _matches(tokens[i + k], phrase[k], prefix and k == last) for k in range(1, last + 1)
        ):
            return True
    return False
