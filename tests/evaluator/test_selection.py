import datetime as dt

import pytest

from evaluator.selection import set_selected
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound


def test_select_up_to_the_limit_while_open(world, session):
    challenge = world.challenge()  # final_selections = 2
    user = world.user("s@example.com")
    team = world.team(challenge, user)
    subs = [world.scored(team, public=0.5, private=0.5) for _ in range(3)]
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    for sub in subs[:2]:
        assert set_selected(
            session, user=user, submission_id=sub.id, selected=True, now=now
        ).selected
    with pytest.raises(Conflict, match="unselect one"):
        set_selected(session, user=user, submission_id=subs[2].id, selected=True, now=now)
    set_selected(session, user=user, submission_id=subs[0].id, selected=False, now=now)
    set_selected(session, user=user, submission_id=subs[2].id, selected=True, now=now)
    with pytest.raises(Forbidden, match="open"):
        set_selected(
            session, user=user, submission_id=subs[2].id, selected=False, now=challenge.closes_at
        )


def test_only_own_scored_submissions(world, session):
    challenge = world.challenge()
    user, other = world.user("u@example.com"), world.user("o@example.com")
    team = world.team(challenge, user)
    sub = world.scored(team, public=0.5, private=0.5)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with pytest.raises(NotFound):
        set_selected(session, user=other, submission_id=sub.id, selected=True, now=now)
    sub.status = "failed"
    with pytest.raises(Invalid, match="scored"):
        set_selected(session, user=user, submission_id=sub.id, selected=True, now=now)
