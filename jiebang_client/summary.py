"""A submission's result in words: what ``submit --wait`` and ``status`` print (``--json``
prints the API's JSON instead).

Scores have four decimals, as the pages show them. The targets are checked here on the
public rows, which is all a team sees before close; the award is decided on the
private rows.
"""

from __future__ import annotations

import math

BOARD_PAGE = 200


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def target_lines(targets: list[dict], sub: dict) -> list[str]:
    """Each target of the challenge, met or not by the submission's public result."""
    metrics = sub.get("public_metrics") or {}
    lines = []
    for target in targets:
        if "metric" in target:
            name = target["metric"]
            value = metrics.get(name)
            if value is None and sub.get("public_score") is not None and len(metrics) <= 1:
                value = sub["public_score"]
            if "at_least" in target:
                bound, text = target["at_least"], f"{name} ≥ {target['at_least']:g}"
                met = value is not None and value >= bound
            else:
                bound, text = target["at_most"], f"{name} ≤ {target['at_most']:g}"
                met = value is not None and value <= bound
            shown = _score(value)
        elif "max_runtime_s" in target:
            value, bound = sub.get("runtime_s"), target["max_runtime_s"]
            text, met = f"run time ≤ {bound:g} s", value is not None and value <= bound
            shown = "—" if value is None else f"{value:.1f} s"
        elif "max_memory_mb" in target:
            value, bound = sub.get("peak_memory_mb"), target["max_memory_mb"]
            text, met = f"peak memory ≤ {bound:g} MB", value is not None and value <= bound
            shown = "—" if value is None else f"{value:.1f} MB"
        else:
            continue
        lines.append(f"  {'✔ met    ' if met else '✘ not met'}  {text}  ({shown})")
    return lines


def queue_line(sub: dict) -> str:
    ahead = sub.get("queue_position")
    if ahead is None:
        return ""
    place = "next in the queue" if ahead == 0 else f"{ahead} submission(s) ahead of it"
    seconds = sub.get("estimated_start_s")
    if seconds is None:
        return f"{place}; no estimate of its start yet"
    if seconds < 60:
        return f"{place}; estimated start: in under a minute"
    return f"{place}; estimated start: in about {math.ceil(seconds / 60)} min"


def board_rank(board: dict, sub: dict) -> str:
    """Where the team stands on the public board, and with which submission."""
    entries = board.get("entries", [])
    total = board.get("total", len(entries))
    for entry in entries:
        if entry["submission_id"] == sub["id"]:
            return f"{entry['rank']} of {total}"
        if sub.get("team") is not None and entry["team"] == sub["team"]:
            return (
                f"{entry['rank']} of {total}, with submission {entry['submission_id']} "
                "(your team's best; this one scored lower)"
            )
    return f"not in the first {len(entries)} of {total}" if entries else "no entries yet"


def describe(sub: dict, *, challenge: dict | None = None, board: dict | None = None) -> str:
    """The result in words; ``challenge`` (its targets, metric) and ``board`` (the public
    board's first page) are read when the submission is scored."""
    lines = [f"submission {sub['id']} ({sub['challenge']}): {sub['status']}"]
    status = sub["status"]
    if status == "queued":
        lines.append("  " + (queue_line(sub) or "waiting for a worker"))
    if status in ("failed", "rejected"):
        kind = f" ({sub['failure']})" if sub.get("failure") else ""
        lines.append(f"  why{kind}: {sub.get('message') or 'no reason given'}")
    if status == "cancelled":
        lines.append("  cancelled before it ran; it does not count against the quota")
    if status == "scored":
        metric = challenge["metric"] if challenge else "score"
        lines.append(f"  public score ({metric}): {_score(sub.get('public_score'))}")
        for name, value in (sub.get("public_metrics") or {}).items():
            if name != metric:
                lines.append(f"  {name}: {_score(value)}")
        if sub.get("private_score") is not None:
            lines.append(f"  private score ({metric}): {_score(sub['private_score'])}")
        if board is not None:
            lines.append(f"  rank on the public board: {board_rank(board, sub)}")
        if challenge and challenge.get("targets"):
            lines.append("  targets, on the public rows (the award is decided on the private):")
            lines.extend(target_lines(challenge["targets"], sub))
        if sub.get("message"):
            lines.append(f"  note: {sub['message']}")
    if sub.get("runtime_s") is not None:
        memory = sub.get("peak_memory_mb")
        shown = "—" if memory is None else f"{memory:.1f} MB"
        lines.append(f"  run time {sub['runtime_s']:.1f} s · peak memory {shown}")
    return "\n".join(lines)
