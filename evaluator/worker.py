"""``jiebang worker``: an RQ worker for submissions, and recovery of lost work.

A stop (SIGTERM or Ctrl+C) ends an idle worker in about a second; a running submission
is finished first. A second signal abandons the run: the container is removed and the
submission goes back to the queue. Every wait of the stop has a limit, and a watchdog
ends the process if the stop overruns them (``STOP_S``, ``COLD_STOP_S``). ``kill -USR1``
writes every thread's stack to the worker's log.
"""

from __future__ import annotations

import ctypes
import faulthandler
import logging
import os
import signal
import socket
import sys
import time
from types import FrameType

from rq import Queue, SimpleWorker

import sandboxes
from evaluator import queue
from evaluator.context import Context
from evaluator.recovery import reconcile
from evaluator.stopping import Watchdog, within
from jiebang import mail

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <sys/prctl.h>

PUBSUB_POLL_S = 0.5  # how soon RQ's command listener notices it is to end
SCHEDULER_STOP_S = 3  # RQ's scheduler looks for its stop request once a second
REDIS_WAIT_S = 2  # for the Redis bookkeeping of a stop (the worker's death, the request)
STOP_S = 10  # the whole stop, from the end of the last run to the exit
COLD_STOP_S = 15  # after a second signal: removing the container, handing the run back


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _publish_base_image(ctx: Context) -> None:
    """Say which base layers this worker holds; a worker whose engine is down still starts
    (its runs fail as infrastructure and are retried)."""
    try:
        image_id = sandboxes.base_image_id(ctx.docker)
    except Exception:
        log.exception("could not read the base image from the Docker engine")
        return
    if image_id is None:
        log.warning("no base image %s here: run `jiebang sandbox build-base`", sandboxes.BASE_IMAGE)
        return
    queue.publish_base_image(
        ctx.redis,
        ctx.settings.queue_name,
        name=sandboxes.BASE_IMAGE,
        image_id=image_id,
        layers=sandboxes.base_layers(ctx.docker),
    )


def _die_with_parent() -> None:
    """In a child forked by the worker (RQ's scheduler): end when the worker ends, even
    by SIGKILL, instead of living on as an orphan that holds the scheduler's lock."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        log.warning("cannot tie a child process to the worker's life")
    elif os.getppid() == 1:  # the worker died before the call
        os._exit(0)


class EvaluatorWorker(SimpleWorker):
    """RQ's in-process worker, with a stop that ends in bounded time.

    RQ 3.0's own stop could take a minute or more (issue 17): its command listener
    (redis-py's PubSubWorkerThread) polls every 60 s, and on stop RQ sends UNSUBSCRIBE
    and then joins that thread with no limit. When the listener reads the reply before
    the stop flag is set, it goes back to wait for a subscription for its whole poll.
    Here the listener polls every ``PUBSUB_POLL_S`` and is only told to end: it closes
    its own connection, which drops the subscription. RQ's scheduler child is told to
    stop at once and killed if it has not after ``SCHEDULER_STOP_S``; the Redis
    bookkeeping waits ``REDIS_WAIT_S`` at most; the watchdog covers the rest.
    """

    def __init__(self, *args, watchdog: Watchdog, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.watchdog = watchdog
        self._stopping = False

    def subscribe(self) -> None:
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_POLL_S, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def unsubscribe(self) -> None:
        """Tell the listener to end; it closes its connection within one poll. No
        UNSUBSCRIBE from this thread: it would race the listener for the same socket."""
        if self.pubsub_thread is not None:
            self.pubsub_thread.stop(timeout=0)

    def set_shutdown_requested_date(self) -> None:
        # Called in the signal handler, in the middle of a run: Redis trouble must neither
        # fail the run (an exception raised there) nor stall it.
        within(REDIS_WAIT_S, "note the stop request", super().set_shutdown_requested_date)

    def stop_scheduler(self) -> None:
        self._tell_scheduler()
        self._end_scheduler(time.monotonic() + SCHEDULER_STOP_S)

    def _scheduler_process(self):
        process = self.scheduler._process if self.scheduler else None
        if process is None or process.pid is None or not process.is_alive():
            return None
        return process

    def _tell_scheduler(self) -> None:
        if process := self._scheduler_process():
            process.terminate()  # SIGTERM: it releases its lock and ends at its next loop

    def _end_scheduler(self, deadline: float) -> None:
        if process := self._scheduler_process():
            process.join(max(0.0, deadline - time.monotonic()))
        if process := self._scheduler_process():
            self.log.warning("RQ's scheduler (PID %s) did not stop; killing it", process.pid)
            process.kill()  # its lock expires by itself
            process.join(1)

    def _install_signal_handlers(self) -> None:
        super()._install_signal_handlers()
        self.log.info("Worker %s: ready (PID %s); SIGTERM stops it", self.name, self.pid)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping:  # a signal in the teardown must not cut it short
            self.log.info("Worker %s: already stopping", self.name)
            return
        super().request_stop(signum, frame)

    def request_force_stop(self, signum: int, frame: FrameType | None) -> None:
        if self._stopping:  # already on its way out, within STOP_S
            self.log.info("Worker %s: already stopping", self.name)
            return
        try:
            super().request_force_stop(signum, frame)  # ignores a repeat within 1 s
        except SystemExit:  # raised in the run, which hands its submission back
            self.watchdog.arm(COLD_STOP_S)
            raise

    def teardown(self) -> None:
        """RQ's teardown, its waits side by side and each with a limit."""
        self._stopping = True
        self.watchdog.arm(STOP_S)
        deadline = time.monotonic() + SCHEDULER_STOP_S
        self._tell_scheduler()
        self.unsubscribe()
        within(REDIS_WAIT_S, "register the worker's death", self.register_death)
        self._end_scheduler(deadline)
        if self.pubsub_thread is not None:
            self.pubsub_thread.join(max(0.0, deadline - time.monotonic()))
            if self.pubsub_thread.is_alive():
                self.log.warning("Worker %s: left its command listener behind", self.name)


def run_worker(ctx: Context, *, burst: bool = False) -> None:
    """Work the queue in this process (no fork per job: the connections stay warm)."""
    if sys.platform == "linux":
        os.register_at_fork(after_in_child=_die_with_parent)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    ctx.settings.scratch_dir.mkdir(parents=True, exist_ok=True)
    # Containers and scratch left by a killed worker on this host; live workers' runs stay.
    try:
        sandboxes.reap(ctx.docker, scratch_root=ctx.settings.scratch_dir)
    except Exception:  # the engine may be down now; the run itself will say so and retry
        log.exception("could not reap sandbox leftovers at start-up")
    reconcile(ctx.sessions, ctx.redis, ctx.settings)
    _publish_base_image(ctx)
    watchdog = Watchdog(ctx.sessions)
    # Mail first: a mail job takes a moment, a submission may take an hour.
    queues = [mail.queue_name(ctx.settings), ctx.settings.queue_name]
    worker = EvaluatorWorker(
        [Queue(name, connection=ctx.redis) for name in queues],
        connection=ctx.redis,
        watchdog=watchdog,
    )
    try:
        worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        watchdog.disarm()  # stopped; the caller may go on (the demo serves)
