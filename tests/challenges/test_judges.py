"""Assigning judges (issue 15, friction 4): the assignment is the role; refusals say why."""

import pytest
from sqlalchemy import select

from challenges import lifecycle
from challenges.models import ChallengeJudge
from challenges.policy import Action, can, judges_any
from jiebang.audit import AuditEvent
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound


def _assigned(session, item) -> list[str]:
    return [row.user.email for row in lifecycle.judges_of(session, item)]


def test_any_active_user_becomes_a_judge_by_assignment(world, session):
    item = world.challenge()
    admin = world.user("a@example.com", "admin")
    person = world.user("p@example.com")  # a participant account: no judge role needed
    assert not judges_any(session, person)
    lifecycle.assign_judge(session, item, judge=person, actor=admin)
    session.flush()
    assert _assigned(session, item) == ["p@example.com"]
    assert judges_any(session, person)
    assert can(session, person, Action.see_judging, item)
    assert can(session, person, Action.see_audit)
    # ... and so cannot compete in it.
    assert not can(session, person, Action.compete, item)
    kinds = session.scalars(select(AuditEvent.kind)).all()
    assert "challenge.judge_assigned" in kinds


def test_each_refusal_names_its_reason(world, session):
    item = world.challenge()
    admin = world.user("a@example.com", "admin")
    member = world.user("m@example.com")
    world.team(item, member, name="Tango")
    insider = world.user("s@example.com", "sponsor", org=world.org("acme"))
    other_admin = world.user("b@example.com", "admin")
    gone = world.user("g@example.com", "judge")
    gone.active = False
    judge = world.user("j@example.com", "judge")
    lifecycle.assign_judge(session, item, judge=judge, actor=admin)
    cases = [
        (member, Conflict, "m@example.com is a member of team Tango in this challenge"),
        (insider, Conflict, "s@example.com belongs to Acme, the sponsor of this challenge"),
        (other_admin, Invalid, "b@example.com is an administrator"),
        (gone, Invalid, "g@example.com's account is deactivated"),
        (judge, Conflict, "j@example.com already judges this challenge"),
    ]
    for user, kind, words in cases:
        with pytest.raises(kind) as caught:
            lifecycle.assign_judge(session, item, judge=user, actor=admin)
        assert words in str(caught.value), (words, str(caught.value))
        assert caught.value.field == "judge"
    assert _assigned(session, item) == ["j@example.com"]


def test_only_admins_assign_and_unassign(world, session):
    item = world.challenge()
    sponsor = world.user("s@example.com", "sponsor", org=world.org("acme"))
    person = world.user("p@example.com")
    with pytest.raises(Forbidden):
        lifecycle.assign_judge(session, item, judge=person, actor=sponsor)
    lifecycle.assign_judge(session, item, judge=person, actor=None)
    with pytest.raises(Forbidden):
        lifecycle.unassign_judge(session, item, judge=person, actor=sponsor)


def test_unassign_takes_the_judging_away(world, session):
    item = world.challenge()
    admin = world.user("a@example.com", "admin")
    person = world.user("p@example.com")
    lifecycle.assign_judge(session, item, judge=person, actor=admin)
    lifecycle.unassign_judge(session, item, judge=person, actor=admin)
    session.flush()
    assert session.scalars(select(ChallengeJudge)).all() == []
    assert not can(session, person, Action.see_judging, item)
    assert can(session, person, Action.compete, item)
    with pytest.raises(NotFound) as caught:
        lifecycle.unassign_judge(session, item, judge=person, actor=admin)
    assert "does not judge this challenge" in str(caught.value)
    assert "challenge.judge_unassigned" in session.scalars(select(AuditEvent.kind)).all()
