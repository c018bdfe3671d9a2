"""Dry runs: who may make one, when, one at a time, and that a scored one is on no board,
no quota and no team's list (the service and the policy; SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select

from challenges import lifecycle, service
from challenges.models import Status
from challenges.policy import Action, can, require
from evaluator import dryrun, standings
from evaluator.intake import used_today
from evaluator.listing import team_submissions
from evaluator.models import State, Submission, TeamBest
from evaluator.outcome import audit_fields
from jiebang import audit
from jiebang.errors import Conflict, Forbidden, NotFound
from leaderboards.board import private_board, public_board
from leaderboards.lifecycle import pending


def _zip() -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("main.py", "print(1)\n")
    data.seek(0)
    return data


@pytest.fixture
def people(world):
    acme = world.org("acme")
    return {
        "sponsor": world.user("s@example.com", "sponsor", org=acme),
        "admin": world.user("a@example.com", "admin"),
        "other_sponsor": world.user("o@example.com", "sponsor", org=world.org("other")),
        "participant": world.user("p@example.com"),
        "judge": world.user("j@example.com", "judge"),
    }


def _dry_run(session, challenge, user, blobs, settings, **kw):
    return dryrun.submit_dry_run(
        session,
        user=user,
        challenge=challenge,
        upload=_zip(),
        kind="bundle",
        blobs=blobs,
        settings=settings,
        **kw,
    )


def test_the_sponsor_and_admins_dry_run_a_draft_nobody_else_learns_of_it(world, session, people):
    draft = world.challenge(publish=False)
    assert can(session, people["sponsor"], Action.dry_run, draft)
    assert can(session, people["admin"], Action.dry_run, draft)
    for name in ("other_sponsor", "participant", "judge"):
        with pytest.raises(NotFound):  # a draft is hidden from them
            require(session, people[name], Action.dry_run, draft)
    with pytest.raises(NotFound):
        require(session, None, Action.dry_run, draft)
    published = world.challenge(slug="published")
    with pytest.raises(Forbidden, match="sponsor and administrators"):
        require(session, people["participant"], Action.dry_run, published)


def test_a_dry_run_is_taken_in_any_status_before_close(world, session, people, blobs, settings):
    draft = world.challenge(publish=False)
    sub = _dry_run(session, draft, people["sponsor"], blobs, settings, note=" reference ")
    assert (sub.dry_run, sub.team_id, sub.status, sub.note) == (True, None, "queued", "reference")
    sub.status = State.scored.value
    lifecycle.request_review(session, draft, actor=people["sponsor"])
    assert draft.status == Status.in_review
    in_review = _dry_run(session, draft, people["admin"], blobs, settings)
    in_review.status = State.failed.value
    service.publish(session, draft)
    assert _dry_run(session, draft, people["sponsor"], blobs, settings).dry_run


def test_none_after_close(world, session, people, blobs, settings):
    item = world.challenge()
    service.close(session, item)
    with pytest.raises(Conflict, match="closed"):
        _dry_run(session, item, people["sponsor"], blobs, settings)
    with pytest.raises(NotFound):
        _dry_run(
            session,
            world.challenge(publish=False, slug="draft-two"),
            people["participant"],
            blobs,
            settings,
        )


def test_one_at_a_time_per_challenge(world, session, people, blobs, settings):
    draft = world.challenge(publish=False)
    first = _dry_run(session, draft, people["sponsor"], blobs, settings)
    with pytest.raises(Conflict, match="still waiting or running"):
        _dry_run(session, draft, people["admin"], blobs, settings)
    assert dryrun.waiting(session, draft) == first.id
    first.status = State.running.value
    with pytest.raises(Conflict):
        _dry_run(session, draft, people["sponsor"], blobs, settings)
    first.status = State.failed.value
    second = _dry_run(session, draft, people["sponsor"], blobs, settings)
    # Another challenge's dry run is no obstacle.
    another = world.challenge(publish=False, slug="another")
    assert _dry_run(session, another, people["sponsor"], blobs, settings)
    assert [s.id for s in dryrun.dry_runs(session, draft)] == [second.id, first.id]
    assert dryrun.latest(session, [draft.id])[draft.id].id == second.id


def test_received_and_final_events_say_dry_run(world, session, people, blobs, settings):
    draft = world.challenge(publish=False)
    sub = _dry_run(session, draft, people["sponsor"], blobs, settings)
    event = audit.events_for(session, draft.id)[-1]
    assert event.kind == "submission.received"
    data = audit.data_of(event.data)
    assert data["dry_run"] is True and data["team"] is None
    assert audit_fields(sub)["dry_run"] is True
    # Every other event keeps the shape it always had.
    assert "dry_run" not in audit_fields(Submission(dry_run=False, team_id=1))


def test_a_scored_dry_run_is_on_no_board_quota_or_list(world, session, people, blobs, settings):
    item = world.challenge(limits={"daily_submissions": 1, "running_submissions": 1})
    member = people["participant"]
    team = world.team(item, member)
    world.scored(team, public=0.5, private=0.5)
    sub = _dry_run(session, item, people["sponsor"], blobs, settings)
    assert pending(session, item) == 0  # freezing never waits for a dry run
    # Scored better than any team, as the worker would leave it.
    sub.status = State.scored.value
    sub.public_score = sub.private_score = 1.0
    sub.public_metrics = sub.private_metrics = {"accuracy": 1.0}
    session.flush()
    standings.note_scored(session, sub)
    assert [e.team for e in public_board(session, item)] == [team.name]
    service.close(session, item)
    assert [e.score for e in private_board(session, item)] == [0.5]
    standings.rebuild(session, item)
    bests = session.scalars(select(TeamBest).where(TeamBest.challenge_id == item.id)).all()
    assert [(b.team_id, b.score) for b in bests] == [(team.id, 0.5)]
    found = team_submissions(session, team_id=team.id, page=1, per_page=50)
    assert sub.id not in [s.id for s in found.items] and found.total == 1
    assert used_today(session, team_id=team.id, challenge=item, now=sub.created_at) == 0
    # The team cannot see it; the sponsor can.
    assert not can(session, member, Action.see_submission, sub)
    assert not can(session, member, Action.choose_final, sub)
    assert can(session, people["sponsor"], Action.see_submission, sub)
    assert session.get(Submission, sub.id).team is None
