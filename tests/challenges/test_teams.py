import pytest

from challenges import service, teams
from jiebang.errors import Conflict, Forbidden, Invalid


def test_create_and_join_with_code(world, session):
    item = world.challenge()
    a, b, c = (world.user(f"{n}@example.com") for n in "abc")
    team = teams.create_team(session, user=a, challenge=item, name="  Blue   Team ")
    assert team.name == "Blue Team"
    teams.join_team(session, user=b, team=team, join_code=team.join_code)
    assert teams.team_of(session, user=b, challenge=item).id == team.id
    with pytest.raises(Conflict, match="full"):
        teams.join_team(session, user=c, team=team, join_code=team.join_code)


def test_rules_of_teams(world, session):
    item = world.challenge()
    a, b = world.user("a@example.com"), world.user("b@example.com")
    team = teams.create_team(session, user=a, challenge=item, name="Red")
    with pytest.raises(Conflict, match="already"):
        teams.create_team(session, user=a, challenge=item, name="Other")
    with pytest.raises(Conflict, match="taken"):
        teams.create_team(session, user=b, challenge=item, name="Red")
    with pytest.raises(Forbidden, match="join code"):
        teams.join_team(session, user=b, team=team, join_code="wrong")
    with pytest.raises(Invalid):
        teams.create_team(session, user=b, challenge=item, name="x")
    service.close(session, item)
    with pytest.raises(Forbidden):
        teams.create_team(session, user=b, challenge=item, name="Late")


def test_leave_unless_you_submitted(world, session):
    item = world.challenge()
    a, b = world.user("a@example.com"), world.user("b@example.com")
    team = world.team(item, a, b, name="Leavers")
    world.scored(team, public=0.5, private=0.5)  # made by a, the first member
    with pytest.raises(Conflict, match="submitted"):
        teams.leave_team(session, user=a, team=team)
    teams.leave_team(session, user=b, team=team)
    assert teams.team_of(session, user=b, challenge=item) is None
    teams.create_team(session, user=b, challenge=item, name="Fresh start")
