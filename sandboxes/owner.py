"""Who owns a run: this process, identified so a reaper can tell if it still lives.

A pid alone is not enough: workers in containers are often pid 1 again after a
restart. The pid plus the process start time (from /proc) is unique per boot.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from pathlib import Path

_TOKEN = re.compile(r"^(\d+)-(\d+)$")
RUN_PREFIX = "jiebang-sandbox-"
# A run's name (scratch directory, cgroup) carries its owner's token.
_RUN_NAME = re.compile(rf"^{RUN_PREFIX}(\d+-\d+)-[0-9a-f]+$")


def token(pid: int | None = None) -> str:
    """``<pid>-<start time>`` for ``pid`` (this process by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}-{_start_time(pid) or 0}"


def run_name() -> str:
    """A fresh name for one run of this process."""
    return f"{RUN_PREFIX}{token()}-{secrets.token_hex(6)}"


def is_leftover_run(name: str) -> bool:
    """Whether ``name`` is a run name whose owning process is gone."""
    match = _RUN_NAME.match(name)
    return bool(match) and not is_alive(match.group(1))


def host() -> str:
    return socket.gethostname()


def is_alive(owner: str) -> bool:
    """Whether the process named by a ``token()`` still runs; malformed tokens are dead."""
    match = _TOKEN.match(owner)
    if not match:
        return False
    pid, started = int(match.group(1)), int(match.group(2))
    current = _start_time(pid)
    if current is None:
        return _pid_exists(pid) and not started
    return current == started


def _start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; fields resume after the last ')'.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19])


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
