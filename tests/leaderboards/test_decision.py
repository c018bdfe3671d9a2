import datetime as dt

import pytest

from challenges import lifecycle
from challenges.models import Status
from challenges.policy import Action, can
from challenges.teams import create_team
from evaluator.reruns import request_rerun
from jiebang import audit
from jiebang.errors import Conflict, Forbidden, Invalid
from leaderboards.decision import (
    award_of,
    hall_of_winners,
    judging_state,
    record_verdict,
)
from leaderboards.lifecycle import tick


@pytest.fixture
def contest(world, session):
    """Open challenge (closes 2027-03-01 00:00 +08:00), three teams, an admin and a judge."""
    challenge = world.challenge()
    teams = [world.team(challenge, world.user(f"{n}@example.com"), name=f"Team {n}") for n in "abc"]
    admin = world.user("admin@example.com", "admin")
    judge = world.user("judge@example.com", "judge")
    lifecycle.assign_judge(session, challenge, judge=judge, actor=admin)
    return challenge, teams, admin, judge


def _close(session, challenge):
    assert tick(session, now=challenge.closes_at) == [challenge.slug]


def _reproduce(world, session, sub, judge, *, private=None):
    """What the worker leaves after a judge's re-run."""
    rerun = request_rerun(session, original=sub, judge=judge)
    rerun.status = "scored"
    rerun.public_score = sub.public_score
    rerun.private_score = sub.private_score if private is None else private
    session.flush()
    return rerun


def test_closes_at_the_exact_second(contest, session):
    challenge, *_ = contest
    assert tick(session, now=challenge.closes_at - dt.timedelta(microseconds=1)) == []
    assert challenge.status == Status.open
    assert challenge.effective_status(challenge.closes_at) == Status.closed
    _close(session, challenge)
    assert tick(session, now=challenge.closes_at) == []  # once only


def test_unclaimed_when_no_team_meets_the_targets(contest, world, session):
    challenge, (a, _b, _c), *_ = contest
    world.scored(a, public=0.85, private=0.89)  # target f1_macro >= 0.9
    _close(session, challenge)
    assert challenge.status == Status.unclaimed
    award = award_of(session, challenge)
    assert award.status == "unclaimed" and award.team_id is None
    assert [h.challenge.slug for h in hall_of_winners(session)] == [challenge.slug]


def test_approval_needs_a_reproducing_rerun_and_awards_the_prize(contest, world, session):
    challenge, (a, b, _c), admin, judge = contest
    best = world.scored(a, public=0.95, private=0.96)
    world.scored(b, public=0.99, private=0.93)
    _close(session, challenge)
    assert challenge.status == Status.judging
    state = judging_state(session, challenge)
    assert state.winner.team_id == a.id and state.reproduces is None
    with pytest.raises(Invalid, match="Re-run"):
        record_verdict(session, challenge, judge=judge, decision="approve")
    _reproduce(world, session, best, judge, private=0.5)
    assert judging_state(session, challenge).reproduces is False
    with pytest.raises(Invalid):
        record_verdict(session, challenge, judge=judge, decision="approve")
    _reproduce(world, session, best, judge)
    assert judging_state(session, challenge).reproduces is True
    with pytest.raises(Forbidden):
        record_verdict(session, challenge, judge=admin, decision="approve")
    record_verdict(session, challenge, judge=judge, decision="approve")
    assert challenge.status == Status.awarded
    award = award_of(session, challenge)
    assert (award.team_id, award.submission_id, award.amount, award.currency) == (
        a.id,
        best.id,
        challenge.prize_amount,
        "CNY",
    )
    with pytest.raises(Invalid):
        record_verdict(session, challenge, judge=judge, decision="approve")


def test_disqualify_moves_to_the_next_eligible_then_unclaimed(contest, world, session):
    challenge, (a, b, c), _, judge = contest
    world.scored(a, public=0.95, private=0.98)
    world.scored(b, public=0.95, private=0.94)
    world.scored(c, public=0.95, private=0.80)  # below target: never eligible
    _close(session, challenge)
    with pytest.raises(Invalid, match="reason"):
        record_verdict(session, challenge, judge=judge, decision="disqualify", reason="")
    record_verdict(session, challenge, judge=judge, decision="disqualify", reason="used test data")
    assert judging_state(session, challenge).winner.team_id == b.id
    record_verdict(
        session, challenge, judge=judge, decision="disqualify", reason="not reproducible"
    )
    assert challenge.status == Status.unclaimed
    kinds = [e.kind for e in audit.events_for(session, challenge.id)]
    assert kinds[-5:] == [
        "challenge.closed",
        "board.frozen",
        "verdict.disqualify",
        "verdict.disqualify",
        "award.unclaimed",
    ]
    assert audit.verify(session).ok


def test_judges_may_not_take_part_and_members_may_not_judge(contest, world, session):
    challenge, (a, _b, _c), admin, judge = contest
    with pytest.raises(Conflict, match="judge"):
        create_team(session, user=judge, challenge=challenge, name="Judges united")
    member = session.get(type(admin), a.memberships[0].user_id)
    member.role = "judge"
    with pytest.raises(Conflict, match="is a member of team Team a in this challenge"):
        lifecycle.assign_judge(session, challenge, judge=member, actor=admin)
    # Any other active account may judge: the assignment is the role (issue 15).
    participant = world.user("p@example.com")
    lifecycle.assign_judge(session, challenge, judge=participant, actor=admin)
    with pytest.raises(Forbidden):
        lifecycle.assign_judge(session, challenge, judge=judge, actor=judge)


def may_see_private(session, user, challenge, *, now):
    return can(session, user, Action.see_private_board, challenge, now=now)


def test_who_sees_the_private_board_when(contest, world, session):
    challenge, (a, _b, _c), admin, judge = contest
    sponsor = world.user("s@example.com", "sponsor", org=challenge.sponsor)
    other_sponsor = world.user("o@example.com", "sponsor", org=world.org("other"))
    member = session.get(type(admin), a.memberships[0].user_id)
    world.scored(a, public=0.95, private=0.96)
    before = challenge.closes_at - dt.timedelta(seconds=1)
    for user in (None, member, sponsor, judge, admin):
        assert not may_see_private(session, user, challenge, now=before)
    _close(session, challenge)
    after = challenge.closes_at
    assert [
        may_see_private(session, u, challenge, now=after)
        for u in (None, member, other_sponsor, sponsor, judge, admin)
    ] == [
        False,
        False,
        False,
        True,
        True,
        True,
    ]
    record_verdict(session, challenge, judge=judge, decision="disqualify", reason="leaked labels")
    assert challenge.status == Status.unclaimed
    assert may_see_private(session, None, challenge, now=after)


def test_review_flow_and_audit_tampering_is_detected(world, session):
    from sqlalchemy import text

    from challenges import service

    draft = world.challenge(publish=False)
    sponsor = world.user("s@example.com", "sponsor", org=draft.sponsor)
    lifecycle.request_review(session, draft, actor=sponsor)
    assert draft.status == Status.in_review
    with pytest.raises(Forbidden):
        service.publish(session, draft, actor=sponsor)
    service.publish(session, draft, actor=world.user("a@example.com", "admin"))
    session.commit()
    assert audit.verify(session).ok
    session.execute(text("UPDATE audit_events SET kind = 'x' WHERE kind = 'challenge.published'"))
    assert not audit.verify(session).ok


def test_freezing_waits_for_submissions_received_before_the_deadline(contest, world, session):
    challenge, (a, _b, _c), *_ = contest
    late = world.scored(a, public=0.95, private=0.96)
    late.status = "running"
    session.flush()
    assert tick(session, now=challenge.closes_at) == []
    assert challenge.status == Status.closed
    late.status = "scored"
    session.flush()
    assert tick(session, now=challenge.closes_at) == [challenge.slug]
    assert challenge.status == Status.judging


def test_one_rerun_at_a_time_whoever_asks_and_however_often(contest, world, session, sessions):
    # The page refused a second re-run while one ran; the API queued as many as asked.
    import threading

    from challenges.models import Challenge
    from evaluator.models import Submission
    from jiebang.accounts import User
    from leaderboards.decision import rerun_winner

    challenge, (a, *_), admin, judge = contest
    best = world.scored(a, public=0.95, private=0.96)
    _close(session, challenge)
    with pytest.raises(Forbidden):
        rerun_winner(session, challenge, judge=admin)
    session.commit()
    outcomes: list[object] = []

    def ask() -> None:
        with sessions() as own:
            try:
                rerun_winner(own, own.get(Challenge, challenge.id), judge=own.get(User, judge.id))
                own.commit()
                outcomes.append("queued")
            except Invalid as exc:
                own.rollback()
                outcomes.append(str(exc))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("queued") == 1 and len(outcomes) == 6
    reruns = session.query(Submission).filter_by(rerun_of_id=best.id).all()
    assert len(reruns) == 1
    reruns[0].status = "scored"
    session.commit()
    assert rerun_winner(session, challenge, judge=judge).rerun_of_id == best.id
