"""Target indicators (揭榜指标): every one must hold for a result to win."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TargetCheck:
    description: str
    met: bool | None  # None: not measured, which never counts as met


def check_targets(
    targets: list[dict],
    *,
    scores: dict[str, float | None],
    runtime_s: float | None,
    peak_memory_mb: float | None,
) -> list[TargetCheck]:
    """Judge each target; ``scores`` maps metric names to the result's scores."""
    checks = []
    for target in targets:
        if "metric" in target:
            value = scores.get(target["metric"])
            if "at_least" in target:
                bound, text = target["at_least"], f"{target['metric']} ≥ {target['at_least']}"
                met = None if _missing(value) else value >= bound
            else:
                bound, text = target["at_most"], f"{target['metric']} ≤ {target['at_most']}"
                met = None if _missing(value) else value <= bound
        elif "max_runtime_s" in target:
            text = f"runtime ≤ {target['max_runtime_s']} s"
            met = None if runtime_s is None else runtime_s <= target["max_runtime_s"]
        else:
            text = f"memory ≤ {target['max_memory_mb']} MB"
            met = None if peak_memory_mb is None else peak_memory_mb <= target["max_memory_mb"]
        checks.append(TargetCheck(text, met))
    return checks


def meets_all(checks: list[TargetCheck]) -> bool:
    return all(c.met is True for c in checks)


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def targets_test(targets: list[dict], metric: str) -> Callable[..., bool]:
    """``meets_all(check_targets(...))`` as one fast test of (score, runtime, memory,
    metrics), for ranking many results of a challenge that ranks by ``metric``. The targets
    are a conjunction of bounds, so they fold into at most one bound of each kind per metric.
    ``metrics`` (name: value) holds the other metrics a scoring program reports. Comparisons
    are written as ``not (x <= bound)`` so that a NaN, as in ``check_targets``, never meets
    anything."""
    never = lambda *args, **kwargs: False  # noqa: E731
    bounds: dict[str, list] = {}  # metric -> [low, high]
    runtime_max = memory_max = None
    for target in targets:
        if "metric" in target:
            bound = target.get("at_least", target.get("at_most"))
            if _missing(bound):
                return never  # a bound nothing satisfies
            low, high = bounds.setdefault(target["metric"], [None, None])
            if "at_least" in target:
                bounds[target["metric"]][0] = bound if low is None else max(low, bound)
            else:
                bounds[target["metric"]][1] = bound if high is None else min(high, bound)
        elif _missing(bound := target.get("max_runtime_s", target.get("max_memory_mb"))):
            return never
        elif "max_runtime_s" in target:
            runtime_max = bound if runtime_max is None else min(runtime_max, bound)
        else:
            memory_max = bound if memory_max is None else min(memory_max, bound)
    low, high = bounds.pop(metric, (None, None))
    scored = low is not None or high is not None
    others = list(bounds.items())

    def within(value: float | None, low: float | None, high: float | None) -> bool:
        if _missing(value):
            return False
        return not (
            (low is not None and not value >= low) or (high is not None and not value <= high)
        )

    def test(
        score: float | None,
        runtime_s: float | None,
        peak_memory_mb: float | None,
        metrics: dict | None = None,
    ) -> bool:
        if scored and not within(score, low, high):
            return False
        for name, (lo, hi) in others:
            if not within((metrics or {}).get(name), lo, hi):
                return False
        if runtime_max is not None and (runtime_s is None or not runtime_s <= runtime_max):
            return False
        return memory_max is None or (peak_memory_mb is not None and peak_memory_mb <= memory_max)

    return test
