"""Scoring programs, end to end: the real intake, the real worker path, real containers.

The participant's run and the sponsor's scorer each run in their own hardened sandbox;
the scorer's answer decides the scores, its refusals reach the team in its own words, and
its failures cost the team nothing.
"""

from __future__ import annotations

import io
import itertools
import os
import secrets

import pytest
import yaml

from challenges import service, teams
from challenges.bundle import open_bundle
from challenges.models import Challenge
from evaluator import inputs
from evaluator.context import open_context
from evaluator.intake import submit, used_today
from evaluator.jobs import run_evaluation
from evaluator.models import Submission
from jiebang import accounts
from jiebang.accounts import User
from jiebang.db import utcnow
from jiebang.errors import NotFound
from jiebang.settings import load_settings
from leaderboards.board import private_board, public_board
from tests.evaluator.scorer_world import CANARY, ITEMS, TRUTH, participant, write_bundle


class World:
    def __init__(self, settings, tmp) -> None:
        self.settings, self.tmp = settings, tmp
        self.ctx = open_context(settings)
        self.nonce = secrets.token_hex(3)
        self.challenges: dict[str, tuple[int, int]] = {}

    def challenge(self, runtime: str = "runc") -> str:
        if runtime not in self.challenges:
            slug = f"scored-{runtime}-{self.nonce}"
            root = write_bundle(self.tmp / slug, slug=slug, runtime=runtime)
            with self.ctx.sessions() as session:
                try:
                    accounts.get_org(session, "acme")
                except NotFound:
                    accounts.create_org(session, slug="acme", name="Acme")
                with open_bundle(root) as bundle:
                    item = service.create_from_bundle(session, bundle=bundle, blobs=self.ctx.blobs)
                service.publish(session, item)
                user = accounts.create_user(
                    session, email=f"{slug}@example.com", password="password123"
                )
                teams.create_team(session, user=user, challenge=item, name=f"team {slug}")
                session.commit()
                self.challenges[runtime] = (item.id, user.id)
        return runtime

    def run(self, runtime: str = "runc", **case) -> Submission:
        challenge_id, user_id = self.challenges[self.challenge(runtime)]
        with self.ctx.sessions() as session:
            sub = submit(
                session,
                user=session.get(User, user_id),
                challenge=session.get(Challenge, challenge_id),
                upload=io.BytesIO(participant(**case)),
                kind="bundle",
                blobs=self.ctx.blobs,
                settings=self.settings,
            )
            session.commit()
            sub_id = sub.id
        run_evaluation(self.ctx, sub_id)
        with self.ctx.sessions() as session:
            sub = session.get(Submission, sub_id)
            session.expunge(sub)
            return sub


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scorer")
    settings = load_settings(
        env="test",
        data_dir=tmp / "instance",
        database_url=database_url,
        redis_url=os.environ.get("JIEBANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        queue_name=f"test-scorer-{secrets.token_hex(3)}",
    )
    yield World(settings, tmp)


def test_a_good_submission_gets_every_declared_metric_on_both_sides(world):
    sub = world.run(right=1.0)
    assert sub.status == "scored", sub.message
    assert sub.public_metrics == {"acc": 1.0, "err": 0.0}
    assert sub.private_metrics == {"acc": 1.0, "err": 0.0}
    assert sub.public_score == 1.0 and sub.private_score == 1.0  # the ranking metric's
    assert "scorer mode ok" in sub.scorer_log
    # The platform's own line: what it read, the public side only (before the close nobody,
    # staff included, sees private scores).
    note = sub.scorer_log.splitlines()[-1]
    assert note.startswith("[jiebang] scored in") and "acc=1" in note and "private" not in note
    # The scorer saw this submission's output and nothing else.
    assert "sees ['answers.json']" in sub.scorer_log


def test_the_board_shows_every_metric_and_ranks_by_the_challenges(world):
    weak = world.run(right=0.5)
    assert weak.status == "scored" and 0 < weak.public_metrics["acc"] < 1
    with world.ctx.sessions() as session:
        item = session.get(Challenge, weak.challenge_id)
        board = public_board(session, item)
        private = private_board(session, item)
    assert [set(e.metrics) for e in board] == [{"acc", "err"}] * len(board)
    assert board[0].metrics["acc"] == board[0].score
    assert all(a.score >= b.score for a, b in itertools.pairwise(board))
    # Targets on both metrics: acc >= 0.9 and err <= 0.1.
    assert board[0].meets_targets is (board[0].metrics["err"] <= 0.1)
    assert private and set(private[0].metrics) == {"acc", "err"}


@pytest.mark.parametrize("runtime", ["runc", "runsc"])
def test_participants_never_see_the_reference_the_split_or_the_scorer(world, runtime):
    sub = world.run(runtime, right=1.0)
    assert sub.status == "scored", sub.message
    probe = next(line for line in sub.log_excerpt.splitlines() if line.startswith("PROBE"))
    assert '"/reference": false' in probe and '"/split": false' in probe
    assert '"/scoring": false' in probe and '"/predictions": false' in probe
    assert CANARY not in sub.log_excerpt and CANARY not in sub.message


def test_a_refusal_by_the_scorer_reaches_the_team_in_its_words(world):
    sub = world.run(right=1.0, no_answers=True)
    assert sub.status == "failed" and sub.failure == "bad_output"
    assert sub.message_code == "scoring.refused"
    assert "answers.json is missing" in sub.message
    assert "[jiebang] the program refused the output (exit 1)" in sub.scorer_log
    with world.ctx.sessions() as session:
        item = session.get(Challenge, sub.challenge_id)
        counted = used_today(session, team_id=sub.team_id, challenge=item, now=utcnow())
        assert counted >= 1  # the team's own fault counts


@pytest.mark.parametrize(
    "mode", ["crash", "hang", "flood", "nan", "garbage", "nested", "missing-metric", "silent-exit"]
)
def test_a_scorer_that_fails_costs_the_team_nothing_and_tells_the_sponsor(world, mode):
    before = _used(world)
    sub = world.run(right=1.0, mode=mode)
    assert sub.status == "failed" and sub.failure == "scorer", (mode, sub.message, sub.scorer_log)
    assert sub.message_code == "scoring.failed"
    assert "does not count against your quota" in sub.message
    assert sub.public_score is None and sub.public_metrics is None
    assert "[jiebang] the scoring program failed" in sub.scorer_log
    assert len(sub.scorer_log) < 80_000  # a flood is cut
    assert CANARY not in sub.message
    assert _used(world) == before  # no quota spent


def test_links_in_the_output_never_reach_the_scorer(world):
    sub = world.run(right=1.0, link=True)
    assert sub.status == "failed" and sub.failure == "bad_output"
    assert sub.message_code == "output.link" and "truth.json" in sub.message
    assert sub.scorer_log == ""  # refused before any scorer ran


def test_the_split_covers_every_item_once_whatever_the_order(world):
    world.challenge()
    with world.ctx.sessions() as session:
        item = session.get(Challenge, world.challenges["runc"][0])
        folder = inputs.ensure_split(world.ctx, item)
        public = (folder / "public.txt").read_text().split()
        private = (folder / "private.txt").read_text().split()
        reference = inputs.ensure_reference(world.ctx, item)
        secret, fraction = item.split_secret, item.public_fraction
    assert sorted(public + private) == sorted(ITEMS) and not set(public) & set(private)
    assert public == sorted(public)
    assert 0 < len(public) < len(ITEMS)
    # The same ids in another order split the same way (the split is per id).
    from challenges.split import public_mask

    shuffled = list(reversed(ITEMS))
    mask = public_mask(shuffled, secret, fraction)
    assert sorted(i for i, p in zip(shuffled, mask, strict=True) if p) == public
    # Prepared once, read-only: the reference folder holds the labels, no one may write.
    assert (reference / "truth.json").is_file()
    assert not os.access(reference, os.W_OK) or os.geteuid() == 0
    assert oct((reference / "truth.json").stat().st_mode & 0o777) == "0o444"
    assert TRUTH[ITEMS[0]] in (reference / "truth.json").read_text()


def _used(world) -> int:
    with world.ctx.sessions() as session:
        challenge_id, user_id = world.challenges["runc"]
        item = session.get(Challenge, challenge_id)
        team = teams.team_of(session, user=session.get(User, user_id), challenge=item)
        return used_today(session, team_id=team.id, challenge=item, now=utcnow())


def test_the_sponsor_is_told_of_scorer_failures_in_the_platforms_words_only(world):
    from evaluator.listing import scorer_failures

    world.run(right=1.0, mode="flood")
    with world.ctx.sessions() as session:
        item = session.get(Challenge, world.challenges["runc"][0])
        found = scorer_failures(session, item, limit=3)
    assert found.total >= 1 and 1 <= len(found.latest) <= 3
    for failure in found.latest:
        assert failure.diagnosis.startswith("the scoring program failed:")
        assert "flood" not in failure.diagnosis and "scorer mode" not in failure.diagnosis


@pytest.mark.parametrize("name", ["scores.json", "error.txt"])
def test_a_folder_where_the_answer_belongs_is_the_scorers_failure(tmp_path, name):
    """Review finding F3: a folder named scores.json escaped judge() as an OSError."""
    import sandboxes
    from evaluator.scorer import judge

    (tmp_path / name).mkdir()
    exit_code = 0 if name == "scores.json" else 1
    run = sandboxes.RunResult(exit_code, False, False, 0.1, 5.0, "", False, tmp_path)
    verdict = judge(run, ["acc", "err"], sandboxes.Limits())
    assert verdict.failure == "scorer" and verdict.code == "scoring.failed"


def test_two_challenges_of_the_same_data_split_by_their_own_secrets(world):
    """Review finding F2: /split was kept per dataset, whatever the challenge's secret."""
    world.challenge()
    slug = f"twin-{world.nonce}"
    root = write_bundle(world.tmp / slug, slug=slug)
    (root / "extra").mkdir()
    (root / "extra" / "info.csv").write_text("k,v\n")  # a nested extra input (finding F9)
    spec = yaml.safe_load((root / "challenge.yaml").read_text())
    spec["data"]["extra_inputs"] = ["extra/info.csv"]
    (root / "challenge.yaml").write_text(yaml.safe_dump(spec))
    with world.ctx.sessions() as session:
        with open_bundle(root) as bundle:
            twin = service.create_from_bundle(session, bundle=bundle, blobs=world.ctx.blobs)
        session.flush()
        inputs_dir = inputs.ensure_inputs(world.ctx, twin)
        first = session.get(Challenge, world.challenges["runc"][0])
        twin.dataset_hash = first.dataset_hash  # the same data, as a copy of a bundle gives
        splits = [
            (inputs.ensure_split(world.ctx, item) / "public.txt").read_text()
            for item in (first, twin)
        ]
        session.rollback()
    assert splits[0] != splits[1]
    assert (inputs_dir / "extra" / "info.csv").read_text() == "k,v\n"
