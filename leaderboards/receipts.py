"""Receipts of scored submissions, read off the audit log, and the chain behind an award.

A receipt says what the platform recorded when it scored a submission: it is built
from the ``submission.scored`` event (scores, metrics, image id, dataset hash, the
time), never from the live row, which could have been changed since; the archive's
sha256 from the ``submission.received`` event. Only the challenge's slug and the
team's name come from the rows (neither is in an event). Private scores are in a
receipt only once the private board is public (the challenge is decided), whoever
asks.

Receipts are signed on demand; Ed25519 signatures are deterministic, so the same
receipt downloaded twice is the same file.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from challenges.models import Challenge, Team
from evaluator.models import State, Submission
from jiebang.audit import AuditEvent
from jiebang.errors import NotFound
from jiebang.receipts import VERSION, Keyring
from leaderboards.decision import award_of
from leaderboards.models import AwardStatus

SCORED = "submission.scored"
RECEIVED = "submission.received"


def _iso(at: dt.datetime) -> str:
    at = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _event(session: Session, kind: str, challenge_id: int, submission_id: int):
    """The latest ``kind`` event of a challenge whose data names ``submission_id``.

    The data is JSON with sorted keys and no spaces, so the LIKE narrows the search
    to a handful of rows of the challenge; each is then checked.
    """
    named = [f'%"submission":{int(submission_id)}{end}%' for end in (",", "}")]
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.kind == kind,
            AuditEvent.challenge_id == challenge_id,
            or_(*(AuditEvent.data.like(p) for p in named)),
        )
        .order_by(AuditEvent.id.desc())
    )
    for event in session.scalars(query):
        if json.loads(event.data).get("submission") == submission_id:
            return event
    return None


def scored_event(session: Session, sub: Submission) -> AuditEvent | None:
    """The ``submission.scored`` event of ``sub`` (the latest, should there be two)."""
    return _event(session, SCORED, sub.challenge_id, sub.id)


def _archive_sha256(session: Session, sub: Submission) -> str:
    """As recorded when the archive was received (a re-run's: its original's)."""
    received = _event(session, RECEIVED, sub.challenge_id, sub.rerun_of_id or sub.id)
    said = json.loads(received.data) if received is not None else {}
    return said.get("sha256") or sub.blob_sha256


def document(session: Session, sub: Submission, event: AuditEvent) -> dict:
    """The receipt's fields before signing."""
    said = json.loads(event.data)
    challenge = session.get(Challenge, event.challenge_id)
    team = session.get(Team, said["team"]) if said.get("team") is not None else None
    body = {
        "version": VERSION,
        "submission": said["submission"],
        "rerun_of": said.get("rerun_of"),
        "challenge": challenge.slug,
        "team": {"id": said.get("team"), "name": team.name if team else None},
        "archive_sha256": _archive_sha256(session, sub),
        "image_id": said.get("image_id"),
        "dataset_hash": said.get("dataset_hash"),
        "public_score": said.get("public_score"),
        "public_metrics": said.get("public_metrics"),
        "scored_at": _iso(event.at),
        "audit_event": {"id": event.id},
    }
    if said.get("dry_run"):
        body["dry_run"] = True  # the sponsor's own run, on no board
    if challenge.is_decided():
        body["private_score"] = said.get("private_score")
        body["private_metrics"] = said.get("private_metrics")
        # Only now: the event's hash covers its private scores, and every other field of
        # it is known to the team, so before the award the hash (with the hash before it,
        # from the team's previous receipt) would let a team guess them, one k/n at a time.
        body["audit_event"]["hash"] = event.hash
    return body


def receipt(session: Session, sub: Submission, keys: Keyring) -> dict:
    """The signed receipt of a scored submission (visibility is the caller's check)."""
    missing = NotFound(
        "receipt", "Submission %(id)s has no receipt: it has not been scored.", id=sub.id
    )
    if sub.status != State.scored.value:
        raise missing
    event = scored_event(session, sub)
    if event is None:
        raise missing
    return keys.sign(document(session, sub, event))


@dataclass(frozen=True)
class Link:
    """One audit event of the chain: what it was, when, and its hash."""

    id: int
    kind: str
    at: dt.datetime
    hash: str

    @classmethod
    def of(cls, event: AuditEvent) -> Link:
        return cls(event.id, event.kind, event.at, event.hash)


@dataclass(frozen=True)
class Signed:
    """A receipt of the chain and the event it was built from."""

    receipt: dict
    event: Link


@dataclass(frozen=True)
class AwardChain:
    """What backs an award: the winning submission's receipt, its re-run's, the
    approving verdict and the award event, whose hash was the audit head then."""

    submission: Signed | None
    rerun: Signed | None
    verdict: Link | None
    award: Link

    @property
    def head(self) -> Link:
        # The award is the last event of the approval's transaction: it was the head.
        return self.award

    def receipt_of(self, submission_id: int) -> dict | None:
        for item in (self.submission, self.rerun):
            if item is not None and item.receipt["submission"] == submission_id:
                return item.receipt
        return None


def _last(session: Session, challenge: Challenge, kind: str) -> AuditEvent | None:
    query = select(AuditEvent).where(
        AuditEvent.challenge_id == challenge.id, AuditEvent.kind == kind
    )
    return session.scalar(query.order_by(AuditEvent.id.desc()).limit(1))


def _signed(session: Session, submission_id: object, keys: Keyring) -> Signed | None:
    sub = session.get(Submission, submission_id) if isinstance(submission_id, int) else None
    event = scored_event(session, sub) if sub is not None else None
    if event is None or sub.status != State.scored.value:
        return None
    return Signed(keys.sign(document(session, sub, event)), Link.of(event))


def award_chain(session: Session, challenge: Challenge, keys: Keyring) -> AwardChain | None:
    """The chain behind a challenge's award; None where no team was awarded. Each link
    is named by the events themselves (the award names the submission, the verdict
    its re-run), so a row changed later does not change the chain."""
    award = award_of(session, challenge)
    if award is None or award.status != AwardStatus.awarded.value:
        return None
    awarded = _last(session, challenge, "award.awarded")
    if awarded is None:
        return None
    verdict = _last(session, challenge, "verdict.approve")
    said = json.loads(verdict.data) if verdict is not None else {}
    return AwardChain(
        submission=_signed(session, json.loads(awarded.data).get("submission"), keys),
        rerun=_signed(session, said.get("rerun"), keys),
        verdict=Link.of(verdict) if verdict is not None else None,
        award=Link.of(awarded),
    )
