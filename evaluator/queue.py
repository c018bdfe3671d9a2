"""The RQ queue: transport only; the database row is the truth."""

from __future__ import annotations

import datetime as dt
import json

from redis import Redis
from rq import Queue
from rq.job import Job

JOB = "evaluator.jobs.evaluate_submission"


def job_id(queue_name: str, submission_id: int, attempt: int) -> str:
    """One job per attempt, so a retry never collides with the job that scheduled it;
    named after the queue, so deployments sharing a Redis never collide either."""
    return f"{queue_name}-submission-{submission_id}-a{attempt}"


def enqueue(
    conn: Redis,
    submission_id: int,
    *,
    attempt: int,
    queue_name: str,
    job_timeout: int,
    delay: dt.timedelta | None = None,
) -> None:
    """Put the submission on the queue; the job claims it from the database row."""
    queue = Queue(queue_name, connection=conn)
    options = dict(
        job_id=job_id(queue_name, submission_id, attempt), result_ttl=3600, failure_ttl=7 * 86400
    )
    if delay:
        queue.enqueue_in(delay, JOB, submission_id, job_timeout=job_timeout, **options)
    else:
        queue.enqueue_call(JOB, args=(submission_id,), timeout=job_timeout, **options)


def job_exists(conn: Redis, queue_name: str, submission_id: int, attempt: int) -> bool:
    return Job.exists(job_id(queue_name, submission_id, attempt), connection=conn)


def enqueue_new(conn: Redis, submission_id: int, settings) -> None:
    """First attempt of a new submission or re-run, with the settings' queue and timeout."""
    enqueue(
        conn,
        submission_id,
        attempt=1,
        queue_name=settings.queue_name,
        job_timeout=settings.job_timeout_s,
    )


def _base_key(queue_name: str) -> str:
    return f"jiebang:{queue_name}:base-image"


def publish_base_image(
    conn: Redis, queue_name: str, *, name: str, image_id: str, layers: list[str]
) -> None:
    """Workers say which base image they hold, so thin uploads can leave its layers out."""
    conn.set(_base_key(queue_name), json.dumps({"name": name, "id": image_id, "layers": layers}))


def base_image(conn: Redis, queue_name: str) -> dict | None:
    raw = conn.get(_base_key(queue_name))
    return json.loads(raw) if raw else None


def shared_layers(conn: Redis, queue_name: str) -> frozenset[str]:
    published = base_image(conn, queue_name)
    return frozenset(published["layers"]) if published else frozenset()
