"""How a worker stops: in bounded time, whatever it was waiting on.

Two pieces, used by ``evaluator.worker``: ``within`` runs one step of the stop with a
limit on the wait, and ``Watchdog`` ends the process if the stop as a whole overruns,
handing back the runs it still holds first.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from evaluator.recovery import hand_back, held_leases

log = logging.getLogger(__name__)

HAND_BACK_S = 5  # the watchdog's wait for the database before it exits regardless


def within(seconds: float, what: str, step: Callable[[], object]) -> bool:
    """Run ``step`` in a daemon thread and wait for it at most ``seconds``; True if it ended.

    For a stopping worker's Redis bookkeeping: an unreachable Redis makes a call retry
    for seconds, an unresponsive one blocks it for the worker's socket timeout (minutes).
    A step still running when the process ends ends with it.
    """
    done = threading.Event()

    def run() -> None:
        try:
            step()
        except Exception:
            log.warning("could not %s while stopping", what, exc_info=True)
        finally:
            done.set()

    threading.Thread(target=run, name=f"jiebang-stop: {what}", daemon=True).start()
    if done.wait(seconds):
        return True
    log.warning("gave up waiting to %s after %.0f s", what, seconds)
    return False


class Watchdog:
    """Ends the process a bounded time after its stop began, whatever hangs in it.

    Every wait of the stop has its own limit; this is the fallback for what none covers
    (a call that never returns, a lock never released). When it fires it writes every
    thread's stack to stderr (the worker's log), hands back the submissions this process
    still runs (``queued`` again, for any worker), and exits with status 1.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._deadline: float | None = None
        # Reentrant: ``arm`` runs in signal handlers, which may interrupt ``arm`` itself.
        self._changed = threading.Condition(threading.RLock())
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> None:
        """End the process at most ``seconds`` from now (an earlier deadline stays)."""
        with self._changed:
            deadline = time.monotonic() + seconds
            if self._deadline is not None and self._deadline <= deadline:
                return
            self._deadline = deadline
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="jiebang-stop-watchdog", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()

    def disarm(self) -> None:
        """The stop has ended; what the process does next is its caller's (the demo serves)."""
        with self._changed:
            self._deadline = None
            self._changed.notify_all()

    def _watch(self) -> None:
        with self._changed:
            while True:
                if self._deadline is None:
                    self._changed.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
        self._fire()

    def _fire(self) -> None:
        # Straight to the file descriptor: a thread that hangs may hold a logging lock.
        os.write(2, b"jiebang worker: the stop overran its limit; every thread's stack:\n")
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        held = held_leases()
        if held:
            within(HAND_BACK_S, "hand back the running submissions", lambda: self._hand_back(held))
        os.write(2, b"jiebang worker: exiting now\n")
        os._exit(1)

    def _hand_back(self, held: list[tuple[int, int]]) -> None:
        for submission_id, attempt in held:
            hand_back(self.sessions, submission_id, attempt)
