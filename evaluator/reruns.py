"""Re-runs: a judge runs a submission again to see whether its score reproduces."""

from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluator import queue
from evaluator.intake import lock_team
from evaluator.models import State, Submission
from jiebang import audit
from jiebang.accounts import User
from jiebang.errors import Invalid
from jiebang.settings import Settings

# Scores are computed by the same code on the same rows; a container that is
# deterministic reproduces to the last bit. The tolerance only absorbs float
# noise from multi-threaded numeric libraries inside a container.
TOLERANCE = 1e-6


def request_rerun(session: Session, *, original: Submission, judge: User) -> Submission:
    """A new submission row for the same file; the caller commits, then ``enqueue_rerun``.

    One re-run at a time: decided under the team's lock, so parallel requests (the
    API let a judge queue several) make one.
    """
    lock_team(session, original.team_id)
    under_way = latest_rerun(session, original)
    if under_way is not None and not under_way.is_final:
        raise Invalid("status", "A re-run is already under way; wait for its result.")
    rerun = Submission(
        challenge_id=original.challenge_id,
        team_id=original.team_id,
        user_id=judge.id,
        kind=original.kind,
        blob_sha256=original.blob_sha256,
        size=original.size,
        image_id=original.image_id,
        note=f"re-run of {original.id}",
        status=State.queued.value,
        rerun_of_id=original.id,
    )
    session.add(rerun)
    session.flush()
    audit.record(
        session,
        "submission.rerun_requested",
        actor_id=judge.id,
        challenge_id=original.challenge_id,
        submission=original.id,
        rerun=rerun.id,
    )
    return rerun


def enqueue_rerun(redis, rerun: Submission, settings: Settings) -> None:
    queue.enqueue(
        redis,
        rerun.id,
        attempt=1,
        queue_name=settings.queue_name,
        job_timeout=settings.job_timeout_s,
    )


def latest_rerun(session: Session, original: Submission) -> Submission | None:
    query = select(Submission).where(Submission.rerun_of_id == original.id)
    return session.scalar(query.order_by(Submission.id.desc()).limit(1))


def reproduces(original: Submission, rerun: Submission | None) -> bool | None:
    """True or False once the re-run is final; None while it runs or was never asked.

    Every metric the challenge reports must come out the same on both sides (within
    ``TOLERANCE``): the private ones always, the public ones where the original had them.
    """
    if rerun is None or not rerun.is_final:
        return None
    if rerun.status != State.scored.value or original.private_score is None:
        return False
    if rerun.private_score is None:
        return False
    return _same(_metrics(original, "private"), _metrics(rerun, "private")) and (
        original.public_score is None
        or _same(_metrics(original, "public"), _metrics(rerun, "public"))
    )


def _metrics(sub: Submission, side: str) -> dict[str, float | None]:
    score = getattr(sub, f"{side}_score")
    return getattr(sub, f"{side}_metrics") or ({} if score is None else {"": score})


def _same(original: dict, rerun: dict) -> bool:
    for name, value in original.items():
        again = rerun.get(name)
        if value is None:
            if again is not None:
                return False
        elif again is None or not math.isclose(again, value, abs_tol=TOLERANCE):
            return False
    return True
