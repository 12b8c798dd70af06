"""A mention's language: ``zh``, ``en`` or ``other``, from its script (monitoring covers Chinese and
English; a ``lang`` given with the mention wins when it names one of them).

Chinese when at least two Han characters are there and they are not outnumbered four to one by Latin
letters ("W家的领队太nice了" is Chinese; an English review quoting "雨崩" is English); English when at
least three Latin letters are there; else ``other`` (emoji-only posts, other scripts).
"""

from __future__ import annotations

from monitor.brands import is_cjk


def language_of(text: str, given: str | None = None) -> str:
    if given:
        primary = given.strip().casefold().replace("_", "-").split("-")[0]
        if primary in ("zh", "en"):
            return primary
    han = latin = 0
    for ch in text:
        if is_cjk(ch):
            han += 1
        elif ch.isascii() and ch.isalpha():
            latin += 1
    if han >= 2 and latin <= 4 * han:
        return "zh"
    if latin >= 3:
        return "en"
    return "zh" if han else "other"
