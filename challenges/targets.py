"""Target indicators (揭榜指标): every one must hold for a result to win."""

from __future__ import annotations

import math
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
