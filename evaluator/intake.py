"""Taking in a submission: permission, deadline, quota, blob, validation, row."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable
from typing import BinaryIO

from redis.exceptions import RedisError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

import sandboxes
from challenges import eligibility
from challenges.models import Challenge, Status, Team
from challenges.teams import team_of
from evaluator import queue
from evaluator.messages import Words
from evaluator.models import NO_QUOTA, WAITING_OR_RUNNING, Kind, State, Submission
from jiebang import audit
from jiebang.accounts import User
from jiebang.blobs import BlobStore, BlobTooLarge, disk_full
from jiebang.db import utcnow
from jiebang.errors import Forbidden, Invalid, TooMany, Unavailable
from jiebang.settings import Settings

log = logging.getLogger(__name__)


def day_start(challenge: Challenge, now: dt.datetime) -> dt.datetime:
    """Midnight of ``now``'s day in the challenge's time zone, in UTC."""
    zone = zoneinfo.ZoneInfo(challenge.timezone)
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def _counted(query):
    """Only submissions that count against a quota (never re-runs or platform failures)."""
    return query.where(
        Submission.rerun_of_id.is_(None),
        Submission.status.notin_([State.rejected.value, State.cancelled.value]),
        or_(Submission.failure.is_(None), Submission.failure.not_in(NO_QUOTA)),
    )


def used_today(session: Session, *, team_id: int, challenge: Challenge, now: dt.datetime) -> int:
    query = select(func.count()).where(
        Submission.team_id == team_id, Submission.created_at >= day_start(challenge, now)
    )
    return session.scalar(_counted(query)) or 0


def check_may_submit(
    session: Session, *, user: User, challenge: Challenge, now: dt.datetime
) -> int:
    """Raise what stands in the way; return the team's id."""
    team = team_of(session, user=user, challenge=challenge)
    if team is None:
        raise Forbidden("team", "Join or create a team for this challenge before you submit.")
    if now >= challenge.closes_at or challenge.is_after_close(now):
        raise Forbidden("challenge", "This challenge has closed; no more submissions are taken.")
    if now < challenge.opens_at or challenge.status != Status.open:
        raise Forbidden("challenge", "This challenge is not open for submissions yet.")
    if refused := eligibility.submit_refusal(session, challenge=challenge, team=team, now=now):
        raise refused
    if used_today(session, team_id=team.id, challenge=challenge, now=now) >= (
        challenge.daily_submissions
    ):
        raise TooMany(
            "quota",
            "Your team has used its %(n)d submissions for today; the count resets at midnight "
            "(%(tz)s).",
            n=challenge.daily_submissions,
            tz=challenge.timezone,
        )
    running = select(func.count()).where(
        Submission.team_id == team.id,
        Submission.rerun_of_id.is_(None),
        Submission.status.in_(WAITING_OR_RUNNING),
    )
    if session.scalar(running) >= challenge.running_submissions:
        raise TooMany(
            "quota",
            "Your team has %(n)d submissions waiting or running; submit again when one finishes.",
            n=challenge.running_submissions,
        )
    if challenge.total_submissions is not None:
        total = session.scalar(_counted(select(func.count()).where(Submission.team_id == team.id)))
        if total >= challenge.total_submissions:
            raise TooMany(
                "quota",
                "Your team has used all %(n)d submissions of this challenge.",
                n=challenge.total_submissions,
            )
    return team.id


def submit(
    session: Session,
    *,
    user: User,
    challenge: Challenge,
    upload: BinaryIO,
    kind: str,
    blobs: BlobStore,
    settings: Settings,
    note: str = "",
    now: dt.datetime | None = None,
    shared_layers: frozenset[str] = frozenset(),
    declared_size: int | None = None,
) -> Submission:
    """Check, store and record a submission; the caller commits, then enqueues it.

    ``upload``: a stream, or the blob store's ``Incoming`` the request parser already
    wrote it into (kept in place). ``shared_layers``: the base-image layers a thin
    image archive may leave out. ``declared_size``: the length the client announced,
    so that an upload over the cap is refused before a byte of it is read.
    """
    now = now or utcnow()
    kind = kind if kind == AUTO else parse_kind(kind)
    team_id = check_may_submit(session, user=user, challenge=challenge, now=now)
    if kind == AUTO:  # only now: the body is read after permission and quota
        upload, kind = sniff_kind(upload)
        kind = parse_kind(kind)
    blob, image_id = store_upload(
        session,
        upload=upload,
        kind=kind,
        blobs=blobs,
        settings=settings,
        shared_layers=shared_layers,
        declared_size=declared_size,
    )
    # The check above let the upload stream; parallel uploads of one team all passed
    # it. Decide again under the team's lock, which the caller's commit releases.
    lock_team(session, team_id)
    try:
        check_may_submit(session, user=user, challenge=challenge, now=now)
    except (Forbidden, TooMany):
        drop_if_unused(blobs, blob.sha256, session)
        raise
    submission = Submission(
        image_id=image_id,
        challenge_id=challenge.id,
        team_id=team_id,
        user_id=user.id,
        kind=kind.value,
        blob_sha256=blob.sha256,
        size=blob.size,
        note=note.strip()[:200],
        status=State.queued.value,
        created_at=now,
    )
    session.add(submission)
    session.flush()
    audit.record(
        session,
        "submission.received",
        actor_id=user.id,
        challenge_id=challenge.id,
        submission=submission.id,
        team=team_id,
        kind=kind.value,
        sha256=blob.sha256,
        size=blob.size,
    )
    return submission


def parse_kind(kind: str) -> Kind:
    try:
        return Kind(kind)
    except ValueError:
        raise Invalid(
            "kind",
            "kind must be 'image' (a docker save archive), 'bundle' (a zip) or 'auto' "
            "(decided from the file).",
        ) from None


AUTO = "auto"  # the kind decided from the file's first bytes, as the client does
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first entry; an empty zip


class _Prefixed:
    """A stream that cannot seek, with its first bytes (read to sniff it) put back."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.rest = head, rest

    def read(self, n: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head, b""
            return out
        return self.rest.read(n)


def sniff_kind(upload: BinaryIO) -> tuple[BinaryIO, str]:
    """A zip is a code bundle, anything else an image archive (the validation that
    follows says what is wrong with it). Returns the stream to read from the start."""
    seekable = getattr(upload, "seekable", lambda: False)()
    if seekable:
        start = upload.tell()
        head = upload.read(4)
        upload.seek(start)
    else:
        head = upload.read(4)
        upload = _Prefixed(head, upload)
    return upload, (Kind.bundle.value if head in ZIP_MAGIC else Kind.image.value)


def store_upload(
    session: Session,
    *,
    upload: BinaryIO,
    kind: Kind,
    blobs: BlobStore,
    settings: Settings,
    shared_layers: frozenset[str],
    declared_size: int | None,
):
    """Store the upload under its size cap and validate it; returns the blob and the
    image id an image archive loads as (shared by submissions and dry runs)."""
    cap = settings.max_image_bytes if kind == Kind.image else settings.max_bundle_bytes
    too_large = Invalid(
        "file", "The file is larger than %(mb)d MB; make it smaller.", mb=cap // 1024**2
    )
    if declared_size is not None and declared_size > cap:
        raise too_large
    try:
        blob = blobs.put_stream(upload, max_bytes=cap)
    except BlobTooLarge:
        raise too_large from None
    except OSError as exc:
        if not disk_full(exc):
            raise
        log.error("blob store is full: %s", exc)
        raise Unavailable(
            "file",
            "The platform is out of storage space; nothing was kept. Try again later.",
        ) from None
    return blob, _validate(blobs, blob.sha256, kind, session, shared_layers)


def _validate(
    blobs: BlobStore, sha256: str, kind: Kind, session: Session, shared: frozenset[str]
) -> str | None:
    """Check the stored file; drop it again if it is invalid and nobody else uses it.

    Returns the image id an image archive will load as.
    """
    path = blobs.path(sha256)
    try:
        if kind == Kind.image:
            return sandboxes.inspect_image_archive(path, shared_layers=shared).image_id
        sandboxes.check_bundle(path)
        return None
    except (sandboxes.ArchiveError, sandboxes.CodeBundleError) as exc:
        drop_if_unused(blobs, sha256, session)
        # Words keep the refusal's code, so the web layer shows it in the reader's language.
        raise Invalid("file", "%(reason)s", reason=Words(exc.code, exc.params)) from None


def drop_if_unused(blobs: BlobStore, sha256: str, session: Session) -> None:
    used = session.scalar(select(Submission.id).where(Submission.blob_sha256 == sha256))
    if used is None:
        blobs.path(sha256).unlink(missing_ok=True)


def lock_team(session: Session, team_id: int) -> None:
    """Hold the team's row lock until the transaction ends: one quota decision at a time.

    PostgreSQL: ``SELECT ... FOR UPDATE``. SQLite has no row locks; a no-op write takes
    the database's write lock (pysqlite runs reads outside a transaction, so no older
    snapshot is held and the upgrade cannot fail), and later reads see every commit.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Team.id).where(Team.id == team_id).with_for_update())
    else:
        session.execute(update(Team).where(Team.id == team_id).values(name=Team.name))


def submit_and_enqueue(
    session: Session,
    *,
    redis,
    user: User,
    challenge: Challenge,
    upload: BinaryIO,
    kind: str,
    blobs: BlobStore,
    settings: Settings,
    note: str = "",
    declared_size: int | None = None,
) -> Submission:
    """``submit``, commit, then put it on the queue (``commit_and_enqueue``)."""
    return commit_and_enqueue(
        session,
        redis=redis,
        settings=settings,
        accept=lambda shared: submit(
            session,
            user=user,
            challenge=challenge,
            upload=upload,
            kind=kind,
            blobs=blobs,
            settings=settings,
            note=note,
            shared_layers=shared,
            declared_size=declared_size,
        ),
    )


def commit_and_enqueue(
    session: Session, *, redis, settings: Settings, accept: Callable[[frozenset[str]], Submission]
) -> Submission:
    """``accept(shared_layers)`` a submission, commit, then put it on the queue: the one
    way the services that commit themselves do it, because the queue must only ever hear
    of a committed row (the row is the truth).

    If Redis is down the row stays ``queued`` and a worker re-enqueues it at start.
    """
    try:
        shared = queue.shared_layers(redis, settings.queue_name)
    except RedisError:
        shared = frozenset()
    submission = accept(shared)
    session.commit()
    try:
        queue.enqueue_new(redis, submission.id, settings)
    except RedisError:
        log.exception("could not enqueue submission %s; a worker will pick it up", submission.id)
    return submission
