"""The receipt service: which audit event a receipt is built from, and what it holds."""

import pytest

from evaluator.models import Submission
from evaluator.outcome import audit_fields
from evaluator.reruns import request_rerun
from jiebang import audit, receipts
from jiebang.errors import NotFound
from leaderboards.receipts import receipt, scored_event


@pytest.fixture
def ring(settings):
    return receipts.keyring(settings)


def _scored(world, session, team, **fields):
    sub = world.scored(team, public=0.9, private=0.91)
    for name, value in fields.items():
        setattr(sub, name, value)
    session.flush()
    audit.record(session, "submission.scored", **audit_fields(sub))
    return sub


def test_the_event_of_the_submission_and_no_other(world, session, ring):
    """Ids that share a prefix (1, 12, 123...) and a metric named "submission" in the
    event's data never make a receipt out of another submission's event."""
    challenge = world.challenge()
    team = world.team(challenge, world.user("a@example.com"))
    subs = [_scored(world, session, team) for _ in range(13)]
    tricky = _scored(world, session, team, public_metrics={"submission": subs[0].id, "x": 1.0})
    for sub in [*subs, tricky]:
        event = scored_event(session, sub)
        assert f'"submission":{sub.id},"team"' in event.data
        assert receipt(session, sub, ring)["submission"] == sub.id
    # A later event of another challenge naming the same id is not it.
    other = world.challenge(slug="second")
    genuine = scored_event(session, subs[0])
    fields = {**audit_fields(subs[0]), "challenge_id": other.id, "public_score": 0.1}
    audit.record(session, "submission.scored", **fields)
    assert scored_event(session, subs[0]).id == genuine.id
    assert receipt(session, subs[0], ring)["public_score"] == 0.9


def test_a_scored_row_without_its_event_has_no_receipt(world, session, ring):
    challenge = world.challenge()
    team = world.team(challenge, world.user("a@example.com"))
    behind_the_back = world.scored(team, public=0.99, private=0.99)  # no event
    with pytest.raises(NotFound, match="not been scored"):
        receipt(session, behind_the_back, ring)
    # A row whose status was set back after scoring: no receipt either.
    sub = _scored(world, session, team)
    session.get(Submission, sub.id).status = "failed"
    with pytest.raises(NotFound):
        receipt(session, sub, ring)


def test_a_dry_runs_receipt_says_so_and_names_no_team(world, session, ring):
    challenge = world.challenge()
    team = world.team(challenge, world.user("a@example.com"))
    sub = _scored(world, session, team)
    sub.team_id, sub.dry_run = None, True
    session.flush()
    audit.record(session, "submission.scored", **audit_fields(sub))
    body = receipt(session, sub, ring)
    assert body["dry_run"] is True and body["team"] == {"id": None, "name": None}
    assert ring.verify(body)


def test_the_archive_hash_is_the_one_recorded_on_receipt_of_the_upload(world, session, ring):
    challenge = world.challenge()
    team = world.team(challenge, world.user("a@example.com"))
    judge = world.user("j@example.com", "judge")
    sub = world.scored(team, public=0.9, private=0.91)
    audit.record(
        session,
        "submission.received",
        challenge_id=challenge.id,
        submission=sub.id,
        team=team.id,
        kind="bundle",
        sha256="a" * 64,
        size=1,
    )
    audit.record(session, "submission.scored", **audit_fields(sub))
    sub.blob_sha256 = "b" * 64  # the row changed behind the platform's back
    rerun = request_rerun(session, original=sub, judge=judge)
    rerun.status = "scored"
    session.flush()
    audit.record(session, "submission.scored", **audit_fields(rerun))
    assert receipt(session, sub, ring)["archive_sha256"] == "a" * 64
    assert receipt(session, rerun, ring)["archive_sha256"] == "a" * 64  # its original's
