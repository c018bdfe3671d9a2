"""Periodic tasks in a daemon thread of each worker (closing on time, reconciling).

Every worker runs them; each task must be safe to run in many workers at once,
so no single scheduler process is needed and none can be the one that died.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Ticker:
    def __init__(self, tasks: list[tuple[float, Callable[[], object]]]) -> None:
        """``tasks``: (every how many seconds, function) pairs."""
        self.tasks = tasks
        self._due = [0.0] * len(tasks)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jiebang-ticker", daemon=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        """Ask the thread to end and wait ``timeout`` at most: a task in progress (a
        database that does not answer) must not hold up the process, which ends it."""
        self._stop.set()
        self._thread.join(timeout=timeout)

    def run_due(self) -> None:
        now = time.monotonic()
        for index, (every, task) in enumerate(self.tasks):
            if now < self._due[index]:
                continue
            self._due[index] = now + every
            try:
                task()
            except Exception:  # keep ticking: a bad moment must not end the thread
                log.exception("periodic task %s failed; trying again later", task)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(1.0)
