"""Leaving a team: the evaluator answers whether the member has submitted for it."""

import pytest

from challenges import teams
from evaluator import membership
from jiebang.errors import Conflict


def test_leave_unless_you_submitted(world, session):
    item = world.challenge()
    a, b = world.user("a@example.com"), world.user("b@example.com")
    team = world.team(item, a, b, name="Leavers")
    world.scored(team, public=0.5, private=0.5)  # made by a, the first member
    with pytest.raises(Conflict, match="submitted"):
        membership.leave_team(session, user=a, team=team)
    membership.leave_team(session, user=b, team=team)
    assert teams.team_of(session, user=b, challenge=item) is None
    teams.create_team(session, user=b, challenge=item, name="Fresh start")
