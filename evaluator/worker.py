"""``jiebang worker``: an RQ worker for submissions, and recovery of lost work."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import sys

from rq import Queue, SimpleWorker

import sandboxes
from evaluator import queue
from evaluator.context import Context
from evaluator.recovery import reconcile

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <sys/prctl.h>


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


def run_worker(ctx: Context, *, burst: bool = False) -> None:
    """Work the queue in this process (no fork per job: the connections stay warm)."""
    if sys.platform == "linux":
        os.register_at_fork(after_in_child=_die_with_parent)
    ctx.settings.scratch_dir.mkdir(parents=True, exist_ok=True)
    # Containers and scratch left by a killed worker on this host; live workers' runs stay.
    try:
        sandboxes.reap(ctx.docker, scratch_root=ctx.settings.scratch_dir)
    except Exception:  # the engine may be down now; the run itself will say so and retry
        log.exception("could not reap sandbox leftovers at start-up")
    reconcile(ctx.sessions, ctx.redis, ctx.settings)
    _publish_base_image(ctx)
    worker = SimpleWorker(
        [Queue(ctx.settings.queue_name, connection=ctx.redis)], connection=ctx.redis
    )
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
