"""Measurements of a running container: peak memory, run time, a capped log excerpt."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path

logger = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 keeps a high-water mark; cgroup v2 (kernel 5.19+) has memory.peak.
PEAK_FILES = ("memory.max_usage_in_bytes", "memory.peak")
POLL_S = 0.1


class MemoryPoller:
    """Reads the container's cgroup high-water mark until stopped.

    The fallback where no per-run parent cgroup can be used (systemd driver).
    The cgroup disappears when the container exits, so the mark is read while
    it runs and the last value kept: a spike in the final poll interval can be
    missed. Works for runc and for runsc (whose sandbox, sentry included, lives
    in the container's cgroup, so its figure is some 20 MB higher).
    """

    def __init__(self, container_id: str, pid: int | None) -> None:
        self._candidates = _peak_files(container_id, pid)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._peak: int | None = None
        self._thread = threading.Thread(target=self._loop, name="sandbox-memory", daemon=True)

    def start(self) -> MemoryPoller:
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> int | None:
        """Stop polling; return the highest usage seen in bytes, or None if never readable."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        with self._lock:
            return self._peak

    def _loop(self) -> None:
        while not self._stop.wait(POLL_S):
            self._sample()

    def _sample(self) -> None:
        for path in self._candidates:
            try:
                value = int(path.read_text())
            except (OSError, ValueError):
                continue
            with self._lock:
                self._peak = max(value, self._peak or 0)
            return


def _peak_files(container_id: str, pid: int | None) -> list[Path]:
    """Where the container's peak usage may be read, most specific first."""
    dirs: list[Path] = []
    if pid:
        dirs.extend(_cgroup_dirs_of(pid))
    dirs.append(CGROUP_ROOT / "memory" / "docker" / container_id)
    dirs.append(CGROUP_ROOT / "system.slice" / f"docker-{container_id}.scope")
    return [d / name for d in dirs for name in PEAK_FILES]


def _cgroup_dirs_of(pid: int) -> list[Path]:
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return []
    dirs = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            dirs.append(CGROUP_ROOT / "memory" / path.lstrip("/"))
        elif controllers == "":
            dirs.append(CGROUP_ROOT / path.lstrip("/"))
    # A path of "/" means we see the container from inside its own namespace: useless.
    return [d for d in dirs if d not in (CGROUP_ROOT / "memory", CGROUP_ROOT)]


def seconds_between(started: str, finished: str) -> float | None:
    """Seconds between two Docker timestamps (RFC 3339 with nanoseconds), None if unusable."""
    try:
        delta = _parse(finished) - _parse(started)
    except ValueError:
        return None
    seconds = delta.total_seconds()
    return seconds if seconds >= 0 else None


def _parse(stamp: str) -> datetime:
    # Python parses at most microseconds; Docker writes nanoseconds.
    head, _, rest = stamp.rstrip("Z").partition(".")
    fraction = "".join(ch for ch in rest if ch.isdigit())[:6]
    return datetime.fromisoformat(f"{head}.{fraction or '0'}+00:00")


def log_excerpt(raw: bytes, *, max_bytes: int, max_lines: int) -> tuple[str, bool]:
    """The tail of ``raw`` within both caps, and whether anything was cut."""
    truncated = False
    lines = raw.splitlines(keepends=True)
    if len(lines) > max_lines:
        lines = lines[-max_lines:]
        truncated = True
    text = b"".join(lines)
    if len(text) > max_bytes:
        text = text[-max_bytes:]
        truncated = True
    return text.decode("utf-8", errors="replace"), truncated
