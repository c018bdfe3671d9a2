"""A dry run end to end: a sponsor's reference solution on a draft scored by a program,
through the real worker path (``run_evaluation``), real containers and the real scorer."""

from __future__ import annotations

import io
import os
import secrets

import pytest
from sqlalchemy import func, select

from challenges import service, teams
from challenges.bundle import open_bundle
from challenges.models import Challenge, Status
from evaluator import dryrun
from evaluator.context import open_context
from evaluator.intake import submit
from evaluator.jobs import run_evaluation
from evaluator.listing import team_submissions
from evaluator.models import Submission, TeamBest
from jiebang import accounts, audit
from jiebang.accounts import User
from jiebang.errors import NotFound
from jiebang.settings import load_settings
from leaderboards.board import private_board, public_board
from tests.evaluator.scorer_world import participant, write_bundle


@pytest.fixture(scope="module")
def ctx(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dryrun")
    settings = load_settings(
        env="test",
        data_dir=tmp / "instance",
        database_url=database_url,
        redis_url=os.environ.get("JIEBANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        queue_name=f"test-dryrun-{secrets.token_hex(3)}",
    )
    yield open_context(settings), tmp


def _draft(ctx, tmp) -> tuple[int, int, int]:
    """A draft scored by a program, a member of its sponsor and a participant: their ids."""
    slug = f"dry-{secrets.token_hex(3)}"
    root = write_bundle(tmp / slug, slug=slug)
    with ctx.sessions() as session:
        try:
            org = accounts.get_org(session, "acme")
        except NotFound:
            org = accounts.create_org(session, slug="acme", name="Acme")
        with open_bundle(root) as bundle:
            item = service.create_from_bundle(session, bundle=bundle, blobs=ctx.blobs)
        sponsor = accounts.create_user(
            session, email=f"s-{slug}@example.com", password="password123", role="sponsor", org=org
        )
        member = accounts.create_user(
            session, email=f"p-{slug}@example.com", password="password123"
        )
        session.commit()
        return item.id, sponsor.id, member.id


def _run(ctx, challenge_id: int, user_id: int, **case) -> Submission:
    with ctx.sessions() as session:
        sub = dryrun.submit_dry_run(
            session,
            user=session.get(User, user_id),
            challenge=session.get(Challenge, challenge_id),
            upload=io.BytesIO(participant(**case)),
            kind="bundle",
            blobs=ctx.blobs,
            settings=ctx.settings,
        )
        session.commit()
        sub_id = sub.id
    run_evaluation(ctx, sub_id)
    with ctx.sessions() as session:
        sub = session.get(Submission, sub_id)
        session.expunge(sub)
        return sub


def test_a_draft_dry_run_is_scored_with_every_metric_and_on_no_board(ctx):
    context, tmp = ctx
    challenge_id, sponsor_id, member_id = _draft(context, tmp)
    sub = _run(context, challenge_id, sponsor_id, right=1.0)
    assert sub.status == "scored", sub.message
    assert sub.dry_run and sub.team_id is None
    assert sub.public_metrics == {"acc": 1.0, "err": 0.0}
    assert sub.private_metrics == {"acc": 1.0, "err": 0.0}
    assert sub.runtime_s is not None and "scorer mode ok" in sub.scorer_log
    with context.sessions() as session:
        item = session.get(Challenge, challenge_id)
        assert item.status == Status.draft  # nothing about the challenge changed
        events = audit.events_for(session, challenge_id)
        final = audit.data_of(events[-1].data)
        assert events[-1].kind == "submission.scored" and final["dry_run"] is True
        assert final["private_metrics"] == {"acc": 1.0, "err": 0.0}
        # Published, with a team that scored worse: the boards hold the team alone.
        service.publish(session, item)
        team = teams.create_team(
            session, user=session.get(User, member_id), challenge=item, name="Only team"
        )
        session.commit()
        team_id = team.id
    weak = _team_run(context, challenge_id, member_id, right=0.5)
    assert weak.status == "scored" and weak.public_score < 1.0
    with context.sessions() as session:
        item = session.get(Challenge, challenge_id)
        assert [e.team for e in public_board(session, item)] == ["Only team"]
        assert [e.submission_id for e in private_board(session, item)] == [weak.id]
        bests = session.scalars(select(TeamBest).where(TeamBest.challenge_id == item.id)).all()
        assert [(b.team_id, b.submission_id) for b in bests] == [(team_id, weak.id)]
        listed = team_submissions(session, team_id=team_id, page=1, per_page=50)
        assert [s.id for s in listed.items] == [weak.id]
        no_team = select(func.count()).where(
            Submission.challenge_id == item.id, Submission.team_id.is_(None)
        )
        assert session.scalar(no_team) == 1  # the dry run, still there for the sponsor
        assert [s.id for s in dryrun.dry_runs(session, item)] == [sub.id]


def test_a_scorer_that_crashes_on_the_reference_shows_on_the_dry_run(ctx):
    context, tmp = ctx
    challenge_id, sponsor_id, _member = _draft(context, tmp)
    sub = _run(context, challenge_id, sponsor_id, right=1.0, mode="crash")
    assert sub.status == "failed" and sub.failure == "scorer"
    assert "KeyError" in sub.scorer_log  # the sponsor sees why
    with context.sessions() as session:
        latest = dryrun.latest(session, [challenge_id])[challenge_id]
        assert latest.id == sub.id and latest.failure == "scorer"


def _team_run(ctx, challenge_id: int, user_id: int, **case) -> Submission:
    with ctx.sessions() as session:
        sub = submit(
            session,
            user=session.get(User, user_id),
            challenge=session.get(Challenge, challenge_id),
            upload=io.BytesIO(participant(**case)),
            kind="bundle",
            blobs=ctx.blobs,
            settings=ctx.settings,
        )
        session.commit()
        sub_id = sub.id
    run_evaluation(ctx, sub_id)
    with ctx.sessions() as session:
        sub = session.get(Submission, sub_id)
        session.expunge(sub)
        return sub
