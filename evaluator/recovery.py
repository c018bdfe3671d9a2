"""Nothing stuck, nothing lost: leases, heartbeats and the reconciler.

The database row is the truth. A worker that claims a submission holds a lease
(``lease_expires_at``) and renews it from a heartbeat thread while the container
runs. The reconciler, run by every worker periodically and by `jiebang
reconcile`, puts back on the queue what was lost: a ``queued`` row whose job is
gone (Redis flushed or restarted), or a ``running``/``scoring`` row whose lease
ran out (its worker died). After ``MAX_ATTEMPTS`` it fails the submission for
good as an ``infrastructure`` failure, which never counts against a quota. It
also removes the temporary files of uploads whose server process died. A worker
stopped in the middle of a run hands its submission back at once (``hand_back``)
instead of leaving it to its lease.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from redis import Redis
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from evaluator import notices, queue
from evaluator.models import IN_FLIGHT, Failure, State, Submission
from jiebang import audit
from jiebang.blobs import BlobStore
from jiebang.db import utcnow
from jiebang.settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRYING = "platform.retrying"  # the message of a row queued again (evaluator.messages)


def lease_until(settings: Settings, now: dt.datetime | None = None) -> dt.datetime:
    return (now or utcnow()) + dt.timedelta(seconds=settings.lease_s)


# The runs this process holds a lease on (submission id -> attempt), for a worker that
# must end before they do (its stop watchdog hands them back).
_held: dict[int, int] = {}


def held_leases() -> list[tuple[int, int]]:
    return list(_held.items())


class Heartbeat:
    """Renews a claimed submission's lease every third of the lease while it runs."""

    def __init__(
        self, sessions: sessionmaker[Session], settings: Settings, submission_id: int, attempt: int
    ) -> None:
        self.sessions, self.settings = sessions, settings
        self.submission_id, self.attempt = submission_id, attempt
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="jiebang-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        _held[self.submission_id] = self.attempt
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        _held.pop(self.submission_id, None)

    def _beat(self) -> None:
        while not self._stop.wait(self.settings.lease_s / 3):
            try:
                with self.sessions.begin() as session:
                    session.execute(
                        update(Submission)
                        .where(
                            Submission.id == self.submission_id,
                            Submission.attempts == self.attempt,
                            Submission.status.in_(IN_FLIGHT),
                        )
                        .values(lease_expires_at=lease_until(self.settings))
                    )
            except Exception:  # a missed beat is not fatal; the lease has slack
                log.warning("heartbeat for submission %s failed", self.submission_id, exc_info=True)


@dataclass
class Report:
    requeued_lost_jobs: int = 0
    requeued_dead_workers: int = 0
    failed_for_good: int = 0
    removed_upload_files: int = 0

    @property
    def total(self) -> int:
        return self.requeued_lost_jobs + self.requeued_dead_workers + self.failed_for_good


def give_up_or_retry(session: Session, sub: Submission, reason: str) -> bool:
    """Back to ``queued`` for another attempt, or failed for good; True if retried."""
    if sub.attempts >= MAX_ATTEMPTS:
        sub.status = State.failed.value
        sub.failure = Failure.infrastructure.value
        sub.finished_at = utcnow()
        sub.lease_expires_at = None
        sub.tell("platform.gave_up", attempts=sub.attempts)
        audit.record(
            session,
            "submission.failed",
            challenge_id=sub.challenge_id,
            submission=sub.id,
            failure=sub.failure,
            reason=reason,
        )
        notices.submission_final(session, sub)
        return False
    sub.status = State.queued.value
    sub.failure = None
    sub.lease_expires_at = None
    sub.tell(RETRYING)
    return True


def hand_back(sessions: sessionmaker[Session], submission_id: int, attempt: int) -> bool:
    """Give back a run this worker is abandoning (it was told to stop at once): what the
    reconciler does once the lease has run out, without the wait. The row goes back to
    ``queued`` (or fails for good after ``MAX_ATTEMPTS``, as for a lost worker) only if
    this attempt still holds it. True if it is queued again: the caller enqueues it, and
    if it cannot, the reconciler does on its next pass (a queued row with no job)."""
    with sessions.begin() as session:
        sub = session.scalar(
            select(Submission)
            .where(
                Submission.id == submission_id,
                Submission.attempts == attempt,
                Submission.status.in_(IN_FLIGHT),
            )
            .with_for_update(of=Submission)
        )
        if sub is None:
            return False
        log.warning("handing submission %s (attempt %s) back", submission_id, attempt)
        return give_up_or_retry(session, sub, "worker stopped")


def reconcile(
    sessions: sessionmaker[Session],
    redis: Redis,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
) -> Report:
    """One pass; safe to run in many workers at once (each change is a conditional update
    on the row it read, and a duplicate job only finds the row already claimed)."""
    now = now or utcnow()
    report = Report()
    with sessions.begin() as session:
        stale = now - dt.timedelta(seconds=settings.lease_s)
        expired = or_(
            Submission.lease_expires_at < now,
            and_(Submission.lease_expires_at.is_(None), Submission.started_at < stale),
        )
        dead = session.scalars(
            select(Submission)
            .where(Submission.status.in_(IN_FLIGHT), expired)
            .with_for_update(skip_locked=True, of=Submission)
        ).all()
        retry = []
        for sub in dead:
            if give_up_or_retry(session, sub, "worker lost"):
                retry.append((sub.id, sub.attempts + 1))
                report.requeued_dead_workers += 1
            else:
                report.failed_for_good += 1
    for submission_id, attempt in retry:
        queue.enqueue(
            redis,
            submission_id,
            attempt=attempt,
            queue_name=settings.queue_name,
            job_timeout=settings.job_timeout_s,
        )
    with sessions() as session:
        waiting = session.execute(
            select(Submission.id, Submission.attempts).where(
                Submission.status == State.queued.value
            )
        ).all()
    for submission_id, attempts in waiting:
        if not queue.job_exists(redis, settings.queue_name, submission_id, attempts + 1):
            queue.enqueue(
                redis,
                submission_id,
                attempt=attempts + 1,
                queue_name=settings.queue_name,
                job_timeout=settings.job_timeout_s,
            )
            report.requeued_lost_jobs += 1
    report.removed_upload_files = BlobStore(settings.blob_dir).sweep_tmp()
    if report.total:
        log.warning("reconciled: %s", report)
    elif report.removed_upload_files:
        log.info("removed %d abandoned upload files", report.removed_upload_files)
    return report
