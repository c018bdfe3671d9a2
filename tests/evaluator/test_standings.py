"""Team bests kept as scores arrive equal those computed from the submissions alone."""

import datetime as dt
import random

import pytest
from sqlalchemy import select

from evaluator import standings
from evaluator.models import TeamBest

T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
COLUMNS = ("team_id", "submission_id", "score", "created_at", "runtime_s", "entries")


def _rows(session, challenge):
    rows = session.scalars(select(TeamBest).where(TeamBest.challenge_id == challenge.id))
    return sorted(tuple(getattr(r, c) for c in COLUMNS) for r in rows)


@pytest.mark.parametrize(
    "metric, targets",
    [("f1_macro", [{"metric": "f1_macro", "at_least": 0.5}]), ("rmse", [])],
)
def test_incremental_bests_equal_a_rebuild_whatever_the_order(world, session, metric, targets):
    challenge = world.challenge(metric=metric, targets=targets)
    teams = [world.team(challenge, world.user(f"u{i}@example.com"), name=f"T{i}") for i in range(6)]
    rng = random.Random(7)
    made = []
    for n in range(120):
        team = rng.choice(teams)
        # Few distinct scores and times, so ties in score and in time both happen.
        public = rng.choice([None, 0.25, 0.5, 0.5, 0.75, 1.0])
        at = T0 + dt.timedelta(minutes=rng.randrange(10))
        rerun_of = made[-1] if made and rng.random() < 0.1 else None
        made.append(
            world.scored(team, public=public, private=0.5, at=at, runtime=n, rerun_of=rerun_of)
        )
    incremental = _rows(session, challenge)
    assert len(incremental) == 6
    standings.rebuild(session, challenge)
    assert _rows(session, challenge) == incremental


def test_each_score_and_selection_moves_the_board_version(world, session):
    from evaluator.selection import set_selected

    challenge = world.challenge()
    user = world.user("a@example.com")
    team = world.team(challenge, user, name="Team A")
    assert standings.board_version(session, challenge.id) == 0
    sub = world.scored(team, public=0.5, private=0.5)
    assert standings.board_version(session, challenge.id) == 1
    world.scored(team, public=None, private=None)  # no public score: still a change
    assert standings.board_version(session, challenge.id) == 2
    set_selected(session, user=user, submission_id=sub.id, selected=True, now=T0)
    session.flush()
    assert standings.board_version(session, challenge.id) == 3
