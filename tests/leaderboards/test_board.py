import datetime as dt

import pytest

from leaderboards.board import private_board, public_board

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def teams(world):
    challenge = world.challenge()
    made = []
    for name in ("A", "B", "C"):
        user = world.user(f"{name.lower()}@example.com")
        made.append(world.team(challenge, user, name=f"Team {name}"))
    return challenge, made


def test_public_board_best_per_team_ties_to_the_earlier(world, teams, session):
    challenge, (a, b, c) = teams
    world.scored(a, public=0.8, private=0.1, at=at(0))
    world.scored(a, public=0.9, private=0.2, at=at(5))
    world.scored(a, public=0.9, private=0.3, at=at(9))  # same best later: not the team's entry
    first_b = world.scored(b, public=0.9, private=0.9, at=at(3))  # ties A, earlier: ranks first
    world.scored(c, public=None, private=None, at=at(1))  # never ranks
    board = public_board(session, challenge)
    assert [(e.team[-1], e.score) for e in board] == [("B", 0.9), ("A", 0.9)]
    assert board[0].submission_id == first_b.id
    assert board[1].entries == 3
    assert [e.rank for e in board] == [1, 2]


def test_lower_is_better_metrics_rank_ascending(world, session):
    challenge = world.challenge(metric="rmse", targets=[{"metric": "rmse", "at_most": 0.5}])
    a = world.team(challenge, world.user("a@example.com"), name="Team A")
    b = world.team(challenge, world.user("b@example.com"), name="Team B")
    world.scored(a, public=0.6, private=0.6)
    world.scored(a, public=0.4, private=0.4)
    world.scored(b, public=0.3, private=0.7)
    board = public_board(session, challenge)
    assert [(e.team[-1], e.score, e.meets_targets) for e in board] == [
        ("B", 0.3, True),
        ("A", 0.4, True),
    ]
    assert [(e.team[-1], e.meets_targets) for e in private_board(session, challenge)] == [
        ("A", True),
        ("B", False),
    ]


def test_meets_targets_on_each_indicator(world, teams, session):
    challenge, (a, b, c) = teams  # targets: f1_macro >= 0.9, runtime <= 60 s
    world.scored(a, public=0.95, private=0.95, runtime=59)
    world.scored(b, public=0.97, private=0.97, runtime=61)
    world.scored(c, public=0.89, private=0.89, runtime=1)
    board = {e.team[-1]: e.meets_targets for e in public_board(session, challenge)}
    assert board == {"A": True, "B": False, "C": False}


def test_private_board_uses_selections(world, teams, session):
    challenge, (a, b, _c) = teams  # final_selections = 2
    world.scored(a, public=0.99, private=0.50, at=at(0))
    world.scored(a, public=0.70, private=0.95, at=at(1), selected=True)
    world.scored(b, public=0.80, private=0.80, at=at(2))
    board = private_board(session, challenge)
    assert [(e.team[-1], e.score) for e in board] == [("A", 0.95), ("B", 0.80)]


def test_private_board_falls_back_to_the_best_public(world, teams, session):
    challenge, (a, b, c) = teams
    world.scored(a, public=0.60, private=0.99, at=at(0))  # third best public: not put forward
    world.scored(a, public=0.90, private=0.70, at=at(1))
    world.scored(a, public=0.80, private=0.75, at=at(2))
    world.scored(b, public=0.85, private=0.72, at=at(3))
    world.scored(c, public=None, private=0.99, at=at(4))  # no public score: not put forward
    board = private_board(session, challenge)
    assert [(e.team[-1], e.score) for e in board] == [("A", 0.75), ("B", 0.72)]


def test_private_ties_go_to_the_earlier_submission(world, teams, session):
    challenge, (a, b, _c) = teams
    world.scored(b, public=0.5, private=0.9, at=at(2))
    world.scored(a, public=0.5, private=0.9, at=at(1))
    assert [e.team[-1] for e in private_board(session, challenge)] == ["A", "B"]


def test_reruns_never_rank(world, teams, session):
    challenge, (a, b, _c) = teams
    original = world.scored(a, public=0.5, private=0.5)
    world.scored(b, public=0.99, private=0.99, rerun_of=original)
    assert [e.team[-1] for e in public_board(session, challenge)] == ["A"]
    assert [e.team[-1] for e in private_board(session, challenge)] == ["A"]
