"""Server-side commands run in-process against the suite's database."""

from click.testing import CliRunner
from sqlalchemy import delete, select

from evaluator.models import TeamBest
from web.commands import challenges


def test_rebuild_boards_restores_team_bests(world, session, settings):
    challenge = world.challenge()
    team = world.team(challenge, world.user("a@example.com"), name="Team A")
    best = world.scored(team, public=0.9, private=0.5)
    world.scored(team, public=0.4, private=0.5)
    session.execute(delete(TeamBest))  # as if scored by workers from before team_bests
    session.commit()
    env = {
        "JIEBANG_DATABASE_URL": settings.database_url,
        "JIEBANG_DATA_DIR": str(settings.data_dir),
        "JIEBANG_REDIS_URL": settings.redis_url,
    }
    result = CliRunner().invoke(challenges, ["rebuild-boards", challenge.slug], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"rebuilt the boards of {challenge.slug}"
    session.expire_all()
    (row,) = session.scalars(select(TeamBest))
    assert (row.submission_id, row.entries) == (best.id, 2)
    missing = CliRunner().invoke(challenges, ["rebuild-boards", "no-such"], env=env)
    assert missing.exit_code != 0
