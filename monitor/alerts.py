"""Alerts: a day whose volume, or whose count of negative mentions, jumps over its rolling baseline.

Contract: :func:`spikes` takes a count per calendar day (every day in the range, zeros included) and
returns the days that break the rule, each with the numbers that made it fire. The rule, stated in
every alert so a reader can check it:

    a day is a spike when its count ≥ mean + K·max(sd, √mean, 1) of the previous WINDOW days,
    and ≥ RATIO × that mean, and ≥ MIN_COUNT,

with the mean and standard deviation over the WINDOW days before it (a day needs at least MIN_HISTORY
of them). The floor √mean is the spread of a Poisson count: a quiet series with a near-zero deviation
does not alert on a single extra post. Defaults (:class:`AlertRule`): WINDOW 7, K 3, RATIO 2,
MIN_COUNT 10 for volume and 5 for negative mentions, MIN_HISTORY 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class AlertRule:
    window: int = 7
    k: float = 3.0
    ratio: float = 2.0
    min_count: int = 10
    min_history: int = 3

    def describe(self, what: str) -> str:
        return (
            f"{what} on a day >= mean + {self.k:g} x max(sd, sqrt(mean), 1) of the previous "
            f"{self.window} days, "
            f">= {self.ratio:g} x that mean, and >= {self.min_count}"
        )

    def describe_zh(self, what: str) -> str:
        """:meth:`describe` in Chinese, for the Chinese report."""
        return (
            f"某天的{what} ≥ 前 {self.window} 天日均 + {self.k:g} × max(标准差, √日均, 1)，"
            f"≥ 日均的 {self.ratio:g} 倍，且 ≥ {self.min_count} 条"
        )


VOLUME_RULE = AlertRule()
# A topic is emerging with >= 5 mentions in this many last days, at least twice its earlier daily rate.
EMERGING_DAYS = 7
NEGATIVE_RULE = AlertRule(min_count=5)


@dataclass(frozen=True)
class Spike:
    day: date
    count: int
    baseline_mean: float
    baseline_sd: float
    threshold: float


def spikes(days: list[date], counts: list[int], rule: AlertRule) -> list[Spike]:
    """The days of ``days`` (consecutive, ascending) whose ``counts`` break ``rule``."""
    out: list[Spike] = []
    for i, (day, count) in enumerate(zip(days, counts, strict=True)):
        history = counts[max(0, i - rule.window) : i]
        if len(history) < rule.min_history:
            continue
        mean = sum(history) / len(history)
        sd = math.sqrt(sum((c - mean) ** 2 for c in history) / len(history))
        threshold = max(
            mean + rule.k * max(sd, math.sqrt(mean), 1.0), rule.ratio * mean, float(rule.min_count)
        )
        if count >= threshold:
            out.append(Spike(day, count, round(mean, 2), round(sd, 2), round(threshold, 2)))
    return out
