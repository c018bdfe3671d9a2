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


def test_the_sponsor_s_members_and_administrators_cannot_compete(world, session):
    """They hold the labels: neither forming nor joining a team is open to them."""
    item = world.challenge()
    outsider = world.user("o@example.com")
    team = teams.create_team(session, user=outsider, challenge=item, name="Outsiders")
    sponsor = world.user("s@example.com", "sponsor", org=item.sponsor)
    colleague = world.user("c@example.com", org=item.sponsor)  # a participant of the sponsor
    admin = world.user("a@example.com", "admin")
    for user in (sponsor, colleague):
        with pytest.raises(Forbidden, match="sponsor of this challenge") as refused:
            teams.create_team(session, user=user, challenge=item, name=f"Inside {user.id}")
        assert refused.value.field == "team"
        with pytest.raises(Forbidden, match="sponsor of this challenge"):
            teams.join_team(session, user=user, team=team, join_code=team.join_code)
    with pytest.raises(Forbidden, match="Administrators"):
        teams.create_team(session, user=admin, challenge=item, name="Admins")
    with pytest.raises(Forbidden, match="Administrators"):
        teams.join_team(session, user=admin, team=team, join_code=team.join_code)
    # A sponsor of another organization may take part like anyone.
    elsewhere = world.user("e@example.com", "sponsor", org=world.org("other"))
    teams.join_team(session, user=elsewhere, team=team, join_code=team.join_code)


@pytest.mark.parametrize(
    "alike",
    ["team a", "TEAM A", "team\u00a0a", "ｔｅａｍ ａ", "  Team   A  ", "team\u3000a"],
)
def test_team_names_that_look_alike_are_one_name(world, session, alike):
    item = world.challenge()
    a, b = world.user("a@example.com"), world.user("b@example.com")
    teams.create_team(session, user=a, challenge=item, name="Team A")
    with pytest.raises(Conflict, match="taken") as taken:
        teams.create_team(session, user=b, challenge=item, name=alike)
    assert taken.value.field == "name"


@pytest.mark.parametrize(
    "hidden",
    [
        "Team\u200bA",  # zero-width space (Cf)
        "Team A\u202e",  # right-to-left override (Cf)
        "Team\x07A",  # bell (Cc)
        "Team\nA",  # newline (Cc)
        "Team\u2028A",  # line separator (Zl)
        "Team\ue000A",  # private use (Co)
        "Team\u0378A",  # unassigned (Cn)
    ],
)
def test_team_names_with_invisible_or_control_characters_are_refused(world, session, hidden):
    item = world.challenge()
    with pytest.raises(Invalid, match="invisible or control character") as refused:
        teams.create_team(session, user=world.user("a@example.com"), challenge=item, name=hidden)
    assert refused.value.field == "name"


def test_team_names_are_normalised_and_never_empty(world, session):
    item = world.challenge()
    a, b = world.user("a@example.com"), world.user("b@example.com")
    team = teams.create_team(session, user=a, challenge=item, name="  ｓｈａｒｐ\u00a0 Eyes ")
    assert (team.name, team.name_key) == ("sharp Eyes", "sharp eyes")
    for empty in ("", "   ", "\u3000\u00a0", "x"):
        with pytest.raises(Invalid, match="2 to 100"):
            teams.create_team(session, user=b, challenge=item, name=empty)
