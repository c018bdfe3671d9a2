"""The RQ job: run one submission in the sandbox and score it.

The job takes an id, claims the row (``queued -> running``) with a conditional
UPDATE so two workers can never run the same submission, holds no database
transaction while the container runs, and writes the outcome to the row.
"""

from __future__ import annotations

import datetime as dt
import logging

import docker.errors
import requests.exceptions
from sqlalchemy import select, update

import sandboxes
from challenges.metrics import get_metric
from challenges.models import Challenge
from evaluator import inputs, notices, queue, scorer, standings
from evaluator.context import Context, current
from evaluator.models import IN_FLIGHT, Failure, Kind, State, Submission
from evaluator.outcome import (
    Outcome,
    audit_fields,
    classify_run,
    failed_run,
    rejected,
    run_failure,
)
from evaluator.recovery import Heartbeat, give_up_or_retry, hand_back, lease_until
from evaluator.worker import worker_name
from jiebang import audit
from jiebang.db import utcnow

log = logging.getLogger(__name__)

INFRASTRUCTURE_ERRORS = (
    docker.errors.DockerException,
    requests.exceptions.ConnectionError,
    OSError,
    inputs.MissingBaseImage,
    scorer.MissingScorerImage,
)


def evaluate_submission(submission_id: int) -> str:
    """RQ entry point."""
    return run_evaluation(current(), submission_id)


def run_evaluation(ctx: Context, submission_id: int) -> str:
    attempt = _claim(ctx, submission_id)
    if attempt is None:
        return "skipped"
    try:
        with Heartbeat(ctx.sessions, ctx.settings, submission_id, attempt):
            outcome = _evaluate(ctx, submission_id, attempt)
    except INFRASTRUCTURE_ERRORS as exc:
        log.exception("infrastructure failure on submission %s", submission_id)
        return _retry_or_fail(ctx, submission_id, attempt, exc)
    except Exception as exc:
        # Not the team's doing either (a sponsor's unreadable labels, a database blip, a
        # bug): the same retry with back-off at once, instead of the row waiting for its
        # lease to run out; a cause that stays fails it for good after the last attempt,
        # as infrastructure, which costs the team nothing. The operator has the traceback.
        log.exception("unexpected error on submission %s", submission_id)
        return _retry_or_fail(ctx, submission_id, attempt, exc)
    except BaseException:
        # Told to stop at once (a second SIGTERM raises SystemExit here, Ctrl+C raises
        # KeyboardInterrupt): the sandbox has removed the container on the way out; the
        # submission goes back to the queue now rather than when the lease runs out.
        _hand_back(ctx, submission_id, attempt)
        raise
    if not _record(ctx, submission_id, attempt, outcome):
        return "superseded"
    return outcome.status


def _claim(ctx: Context, submission_id: int) -> int | None:
    """queued -> running, only if still queued; returns the attempt number."""
    with ctx.sessions.begin() as session:
        return session.scalar(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status == State.queued.value)
            .values(
                status=State.running.value,
                started_at=utcnow(),
                attempts=Submission.attempts + 1,
                worker=worker_name(),
                message_code="",
                message_params={},
                lease_expires_at=lease_until(ctx.settings),
            )
            .returning(Submission.attempts)
        )


def _set_status(ctx: Context, submission_id: int, attempt: int, status: State) -> None:
    """Move this attempt's row on, and only while this attempt still owns it."""
    with ctx.sessions.begin() as session:
        session.execute(
            update(Submission)
            .where(
                Submission.id == submission_id,
                Submission.attempts == attempt,
                Submission.status.in_(IN_FLIGHT),
            )
            .values(status=status.value)
        )


def _evaluate(ctx: Context, submission_id: int, attempt: int) -> Outcome:
    """The one way through: the upload becomes an image (or the base image and the code),
    runs on the test inputs, and its output is scored by the built-in scorer or by the
    challenge's scoring program. Nothing here touches the row but ``_set_status``."""
    with ctx.sessions() as session:
        sub = session.get(Submission, submission_id)
        challenge = session.get(Challenge, sub.challenge_id)
        challenge.files  # noqa: B018 (loaded now: the session closes before they are read)
        session.expunge_all()
    client = ctx.docker
    # Named for this worker process: if it is killed, the next worker's reaper removes it.
    scratch = sandboxes.new_scratch_dir(ctx.settings.scratch_dir)
    try:
        try:
            image_id, command, code_dir = _runnable(ctx, sub, scratch)
        except (sandboxes.ArchiveError, sandboxes.CodeBundleError) as exc:
            return rejected(exc)
        limits = sandboxes.Limits(
            cpus=challenge.cpus,
            memory_mb=challenge.memory_mb,
            time_limit_s=challenge.time_limit_s,
            runtime=challenge.runtime or ctx.settings.sandbox_runtime,
        )
        # The namespace tells apart deployments (or test runs) that share one engine,
        # whose submission ids overlap.
        labels = {
            "jiebang.namespace": ctx.settings.namespace,
            "jiebang.submission": str(submission_id),
            "jiebang.worker": worker_name(),
        }
        with sandboxes.run(
            client,
            image_id=image_id,
            input_dir=inputs.ensure_inputs(ctx, challenge),
            limits=limits,
            scratch_dir=scratch,
            command=command,
            code_dir=code_dir,
            labels=labels,
        ) as result:
            _set_status(ctx, submission_id, attempt, State.scoring)
            if challenge.scoring:
                outcome = _score_with_program(ctx, challenge, result, limits, scratch, labels)
            else:
                hidden = inputs.truth(ctx, challenge)
                outcome = classify_run(
                    result,
                    metric=get_metric(challenge.metric),
                    labels=hidden.labels,
                    public=hidden.public,
                    limits=limits,
                    max_bytes=ctx.settings.max_prediction_bytes,
                    show_logs=challenge.show_logs,
                )
        outcome.image_id = image_id
        outcome.dataset_hash = challenge.dataset_hash
        return outcome
    finally:
        sandboxes.remove_scratch_dir(scratch)


def _runnable(ctx: Context, sub: Submission, scratch) -> tuple[str, list[str] | None, object]:
    """(image id, command, code folder): an image archive loaded (once per engine), or a
    code bundle unpacked to run on the base image. Refusals raise the sandbox's errors."""
    if sub.kind == Kind.image:
        blob = ctx.blobs.path(sub.blob_sha256)
        return inputs.ensure_image(ctx.docker, blob, sub.image_id), None, None
    image_id = inputs.base_image(ctx.docker)
    code_dir = sandboxes.extract_bundle(ctx.blobs.path(sub.blob_sha256), scratch / "code")
    return image_id, ["python", "/code/main.py"], code_dir


def _score_with_program(ctx, challenge, result, limits, scratch, labels) -> Outcome:
    """The run's /output, checked (no link, no device, not too many files), then scored by
    the challenge's scoring program in its own sandbox."""
    failure = run_failure(result, limits, show_logs=challenge.show_logs)
    if failure is not None:
        return failure
    try:
        sandboxes.check_output(result.output_dir)
    except sandboxes.OutputError as exc:
        return failed_run(result, Failure.bad_output, exc.code, **exc.params)
    verdict = scorer.score(
        ctx,
        challenge,
        predictions=result.output_dir,
        scratch=scratch,
        labels=labels,
        runtime=limits.runtime,
    )
    return verdict.outcome(result)


def _record(ctx: Context, submission_id: int, attempt: int, outcome: Outcome) -> bool:
    """Write the outcome if this attempt still owns the row; False if another took over.

    The row is locked (PostgreSQL) and checked again, so a result is written once and
    audited once, whatever the reconciler or another worker did meanwhile.
    """
    with ctx.sessions.begin() as session:
        sub = session.scalar(
            select(Submission).where(Submission.id == submission_id).with_for_update(of=Submission)
        )
        if sub.attempts != attempt or sub.status not in IN_FLIGHT:
            log.warning("submission %s attempt %s was superseded", submission_id, attempt)
            return False
        sub.lease_expires_at = None
        outcome.apply(sub, sub.challenge.metric)
        sub.finished_at = utcnow()
        if outcome.status is State.scored:
            standings.note_scored(session, sub)
        audit.record(session, f"submission.{outcome.status.value}", **audit_fields(sub))
        notices.submission_final(session, sub)
    return True


def _hand_back(ctx: Context, submission_id: int, attempt: int) -> None:
    try:
        if hand_back(ctx.sessions, submission_id, attempt):
            queue.enqueue(
                ctx.redis,
                submission_id,
                attempt=attempt + 1,
                queue_name=ctx.settings.queue_name,
                job_timeout=ctx.settings.job_timeout_s,
            )
    except Exception:  # the reconciler enqueues a queued row; the lease covers the rest
        log.exception("could not hand submission %s back", submission_id)


def _retry_or_fail(ctx: Context, submission_id: int, attempt: int, exc: BaseException) -> str:
    """Platform trouble: try again later with back-off, or fail for good without costing quota."""
    with ctx.sessions.begin() as session:
        sub = session.get(Submission, submission_id)
        if sub.attempts != attempt or sub.status not in IN_FLIGHT:
            return "superseded"
        retried = give_up_or_retry(session, sub, type(exc).__name__)
    if not retried:
        return State.failed.value
    queue.enqueue(
        ctx.redis,
        submission_id,
        attempt=attempt + 1,
        queue_name=ctx.settings.queue_name,
        job_timeout=ctx.settings.job_timeout_s,
        delay=dt.timedelta(seconds=5 * 2 ** (attempt - 1)),
    )
    return "retrying"
