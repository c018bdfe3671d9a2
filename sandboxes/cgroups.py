"""A parent cgroup per run, so peak memory can be read exactly after the run ends.

The container's own cgroup vanishes the moment it exits, taking its memory
high-water mark with it. Docker can place the container under a parent cgroup
of our choosing (cgroupfs driver); the parent's mark, which counts the child,
outlives the container until we remove the parent. Works for runc and runsc.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT = Path("/sys/fs/cgroup")
PARENT = "jiebang"
# cgroup v1 keeps a high-water mark; cgroup v2 (kernel 5.19+) has memory.peak.
PEAK_FILES = ("memory/{path}/memory.max_usage_in_bytes", "{path}/memory.peak")


def parent_path(name: str) -> str:
    """The ``cgroup_parent`` for the run called ``name``."""
    return f"/{PARENT}/{name}"


def peak_bytes(name: str) -> int | None:
    """The run's memory high-water mark in bytes, or None where we cannot read it."""
    for pattern in PEAK_FILES:
        path = ROOT / pattern.format(path=f"{PARENT}/{name}")
        try:
            return int(path.read_text())
        except (OSError, ValueError):
            continue
    return None


def remove(name: str) -> None:
    """Delete the run's parent cgroup in every hierarchy; its container must be gone.

    The container's own cgroup inside it is normally gone too, but a runtime that failed
    to start (runsc) can leave it behind, empty: children are removed first.
    """
    for hierarchy in _hierarchies():
        directory = hierarchy / PARENT / name
        if not directory.is_dir():
            continue
        children = [Path(d) for d, _, _ in os.walk(directory, topdown=False)]
        for child in children:  # deepest first, the run's own directory last
            try:
                child.rmdir()
            except OSError as exc:
                # Left for reap(); an empty cgroup costs next to nothing.
                logger.warning("cannot remove cgroup %s: %s", child, exc)
                break


def reap(is_leftover: Callable[[str], bool]) -> int:
    """Remove run cgroups whose names ``is_leftover`` accepts; count the runs."""
    names = {
        child.name
        for hierarchy in _hierarchies()
        if (hierarchy / PARENT).is_dir()
        for child in (hierarchy / PARENT).iterdir()
        if child.is_dir() and is_leftover(child.name)
    }
    for name in names:
        remove(name)
    return len(names)


def _hierarchies() -> list[Path]:
    # cgroup v1 mounts one hierarchy per controller under ROOT; v2 mounts ROOT itself.
    try:
        return [ROOT, *(p for p in ROOT.iterdir() if p.is_dir() and not p.is_symlink())]
    except OSError:
        return []
