"""The live state checked against the audit log: a history made by the platform's own
services (intake, the worker's recording, the freeze, a judge's re-run and approval),
then the tables edited behind its back with raw SQL, as an operator or a leaked
credential could. Each edit must be found and named; the untouched history verifies."""

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from challenges import lifecycle
from evaluator.context import open_context
from evaluator.dryrun import submit_dry_run
from evaluator.intake import submit
from evaluator.jobs import _claim, _record
from evaluator.models import Failure, State, Submission
from evaluator.outcome import Outcome
from jiebang import accounts, tokens
from leaderboards.decision import award_of, record_verdict, rerun_winner
from leaderboards.lifecycle import tick
from leaderboards.verify import verify_state
from web.app import create_app
from web.commands import audit

DAY_ONE = dt.datetime(2026, 11, 22, 16, 0, tzinfo=dt.UTC)  # a Shanghai midnight


@dataclass
class History:
    challenge: object
    a: object  # the winning team
    b: object
    a_best: int  # submission ids
    a_other: int
    b_best: int
    b_failed: int
    rerun: int
    dry: int


def _zip(n: int) -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("main.py", f"print({n})\n")
    data.seek(0)
    return data


def _finish(ctx, session, sub_id: int, outcome: Outcome) -> None:
    """What a worker does with a run's outcome: claim the row, then record the result."""
    session.commit()
    attempt = _claim(ctx, sub_id)
    assert _record(ctx, sub_id, attempt, outcome)
    session.expire_all()


def _scored(challenge, public: float, private: float) -> Outcome:
    metric = challenge.metric
    return Outcome(
        State.scored,
        public_metrics={metric: public},
        private_metrics={metric: private},
        runtime_s=1.5,
        image_id="sha256:" + "1" * 64,
        dataset_hash=challenge.dataset_hash,
    )


@pytest.fixture
def history(world, session, settings, blobs, redis_conn) -> History:
    challenge = world.challenge()
    users = [world.user(f"{n}@example.com") for n in "ab"]
    a, b = (world.team(challenge, u, name=f"Team {u.email[0]}") for u in users)
    admin, judge = world.user("admin@example.com", "admin"), world.user("j@example.com", "judge")
    lifecycle.assign_judge(session, challenge, judge=judge, actor=admin)
    ctx = open_context(settings)
    ids = []
    for day, user in enumerate([users[0], users[0], users[1], users[1]]):
        sub = submit(
            session,
            user=user,
            challenge=challenge,
            upload=_zip(day),
            kind="bundle",
            blobs=blobs,
            settings=settings,
            now=DAY_ONE + dt.timedelta(days=day),
        )
        ids.append(sub.id)
    a_best, a_other, b_best, b_failed = ids
    _finish(ctx, session, a_best, _scored(challenge, 0.95, 0.96))
    _finish(ctx, session, a_other, _scored(challenge, 0.5, 0.55))
    _finish(ctx, session, b_best, _scored(challenge, 0.92, 0.91))
    crash = Outcome(State.failed, Failure.crash, "run.crash", {"exit_code": 1}, runtime_s=0.2)
    _finish(ctx, session, b_failed, crash)
    sponsor = world.user("s@example.com", "sponsor", org=world.org())
    dry = submit_dry_run(
        session,
        user=sponsor,
        challenge=challenge,
        upload=_zip(9),
        kind="bundle",
        blobs=blobs,
        settings=settings,
        now=DAY_ONE,
    )
    _finish(ctx, session, dry.id, _scored(challenge, 0.99, 0.99))  # on no board
    assert tick(session, now=challenge.closes_at) == [challenge.slug]  # closed and frozen
    rerun = rerun_winner(session, challenge, judge=judge)
    _finish(ctx, session, rerun.id, _scored(challenge, 0.95, 0.96))
    record_verdict(session, challenge, judge=judge, decision="approve")
    session.commit()
    assert award_of(session, challenge).team_id == a.id
    return History(challenge, a, b, a_best, a_other, b_best, b_failed, rerun.id, dry.id)


def _tampered(session, sql: str, **params) -> list[str]:
    session.execute(text(sql), params)
    session.commit()
    check = verify_state(session)
    assert not check.agrees and check.count == len(check.first)
    return check.first


def test_an_untouched_history_agrees(history, session):
    check = verify_state(session)
    assert check.first == [] and check.agrees
    assert check.submissions == 6  # four entries, a sponsor's dry run and the re-run


def test_an_edited_score_is_named(history, session):
    found = _tampered(
        session, "UPDATE submissions SET public_score = 0.99 WHERE id = :i", i=history.b_best
    )
    assert found == [f"submission {history.b_best}: public_score is 0.99, the log says 0.92"]


def test_an_edited_private_score_moves_the_frozen_board(history, session):
    h = history
    found = _tampered(
        session, "UPDATE submissions SET private_score = 0.2 WHERE id = :i", i=h.a_best
    )
    assert f"submission {h.a_best}: private_score is 0.2, the log says 0.96" in found
    slug = h.challenge.slug
    assert (
        f"challenge {slug}: the frozen private board's rank 1 is now team {h.b.id} "
        f"(submission {h.b_best}, 0.91), the log's freeze"
    ) in " ".join(found)


def test_an_edited_metric_is_named(history, session):
    metric = history.challenge.metric
    found = _tampered(
        session,
        "UPDATE submissions SET public_metrics = :m WHERE id = :i",
        m=f'{{"{metric}": 0.7}}',
        i=history.a_other,
    )
    assert found == [
        f'submission {history.a_other}: public_metrics is {{"{metric}": 0.7}}, '
        f'the log says {{"{metric}": 0.5}}'
    ]


def test_a_dry_run_turned_into_an_entry_is_named(history, session):
    found = _tampered(
        session,
        "UPDATE submissions SET dry_run = :f, team_id = :t WHERE id = :i",
        f=False,
        t=history.b.id,
        i=history.dry,
    )
    assert f"submission {history.dry}: team is {history.b.id}, the log says none" in found
    assert f"submission {history.dry}: dry_run is False, the log says True" in found


def test_an_edited_status_is_named(history, session):
    found = _tampered(
        session,
        "UPDATE submissions SET status = 'scored', failure = NULL WHERE id = :i",
        i=history.b_failed,
    )
    assert found == [
        f"submission {history.b_failed}: status is scored, the log says failed",
        f"submission {history.b_failed}: failure is none, the log says crash",
    ]


def test_an_edited_team_best_is_named(history, session):
    h = history
    found = _tampered(session, "UPDATE team_bests SET score = 0.99 WHERE team_id = :t", t=h.b.id)
    assert found == [f"team {h.b.id}'s best on the public board: score is 0.99, the log says 0.92"]
    found = _tampered(
        session,
        "UPDATE team_bests SET submission_id = :s, score = 0.5 WHERE team_id = :t",
        s=h.a_other,
        t=h.a.id,
    )
    what = f"team {h.a.id}'s best on the public board"
    assert f"{what}: submission is {h.a_other}, the log says {h.a_best}" in found


def test_an_edited_award_is_named(history, session):
    found = _tampered(session, "UPDATE awards SET amount = 1, currency = 'USD'")
    what = f"the award of challenge {history.challenge.slug}"
    assert found == [
        f"{what}: amount is 1.00, the log says 1000.00",
        f"{what}: currency is USD, the log says CNY",
    ]
    found = _tampered(session, "UPDATE awards SET team_id = :t", t=history.b.id)
    assert f"{what}: team is {history.b.id}, the log says {history.a.id}" in found


def test_an_edited_verdict_is_named(history, session):
    found = _tampered(session, "UPDATE verdicts SET decision = 'disqualify'")
    assert len(found) == 1 and "decision is disqualify, the log says approve" in found[0]


def test_a_deleted_submission_is_named(history, session):
    found = _tampered(session, "DELETE FROM submissions WHERE id = :i", i=history.b_failed)
    assert len(found) == 1
    assert found[0].startswith(f"submission {history.b_failed}: no such row, but the log records")


def test_a_submission_inserted_behind_the_platforms_back_is_named(history, session):
    sub = Submission(
        challenge_id=history.challenge.id,
        team_id=history.b.id,
        user_id=history.b.memberships[0].user_id,
        kind="bundle",
        blob_sha256="2" * 64,
        size=1,
        status=State.scored.value,
        public_score=0.999,
        private_score=0.999,
    )
    session.add(sub)
    session.commit()
    check = verify_state(session)
    assert check.first[:2] == [
        f"submission {sub.id}: the row has no event in the log that received it",
        f"submission {sub.id}: status is scored, the log records no result",
    ]
    # It would top the private board: the freeze's digest no longer matches either.
    assert check.first[2].startswith(
        f"challenge {history.challenge.slug}: the frozen private board's rank 1 is now "
        f"team {history.b.id} (submission {sub.id}, 0.999)"
    )
    assert check.count == 3


def test_a_best_the_log_never_scored_is_named(history, session):
    """A team_bests row pointing at a submission the log says failed: the board lies."""
    h = history
    found = _tampered(
        session,
        "UPDATE submissions SET status = 'scored', public_score = 0.99 WHERE id = :i",
        i=h.b_failed,
    )
    assert f"submission {h.b_failed}: status is scored, the log says failed" in found
    assert f"submission {h.b_failed}: public_score is 0.99, the log says none" in found


def _env(settings) -> dict:
    return {
        "JIEBANG_DATABASE_URL": settings.database_url,
        "JIEBANG_DATA_DIR": str(settings.data_dir),
        "JIEBANG_REDIS_URL": settings.redis_url,
    }


def test_the_command_exits_non_zero_on_a_disagreement(history, session, settings):
    clean = CliRunner().invoke(audit, ["verify"], env=_env(settings))
    assert clean.exit_code == 0, clean.output
    assert clean.output.startswith("audit log intact: ")
    assert "events; state agrees with the log; head " in clean.output
    session.execute(text("UPDATE awards SET amount = 1"))
    session.commit()
    edited = CliRunner().invoke(audit, ["verify"], env=_env(settings))
    assert edited.exit_code == 1
    assert f"the award of challenge {history.challenge.slug}: amount is 1.00" in edited.output
    assert "disagrees with the audit log in 1 place\n" in edited.output
    session.execute(text("UPDATE audit_events SET data = '{}' WHERE kind = 'award.awarded'"))
    session.commit()
    broken = CliRunner().invoke(audit, ["verify"], env=_env(settings))
    assert broken.exit_code == 1 and "audit log broken: event" in broken.output


def test_the_audit_head_checks_the_state_only_when_asked(history, session, settings, engine):
    admin = accounts.get_user_by_email(session, "admin@example.com")
    token = tokens.issue_token(session, user=admin, scope="read")
    session.commit()
    client = create_app(settings).test_client()
    headers = {"Authorization": f"Bearer {token}"}
    url = "/api/v1/audit/head"
    plain = client.get(url, headers=headers).get_json()
    assert "state_agrees" not in plain and len(plain["head"]) == 64  # not asked
    clean = client.get(f"{url}?state=true", headers=headers).get_json()
    assert (clean["state_agrees"], clean["disagreements"]) == (True, 0)
    assert clean["first_disagreements"] == []
    session.execute(text("UPDATE awards SET amount = 1"))
    session.commit()
    edited = client.get(f"{url}?state=true", headers=headers).get_json()
    assert (edited["state_agrees"], edited["disagreements"]) == (False, 1)
    assert "amount is 1.00, the log says 1000.00" in edited["first_disagreements"][0]
    wrong = client.get(f"{url}?state=maybe", headers=headers)
    assert wrong.status_code == 400 and "state must be" in wrong.get_data(as_text=True)


def test_events_from_before_metrics_were_recorded_are_read_as_they_are(history, session):
    """An older database's results carry no metrics: those are not compared, the rest is."""
    from jiebang.audit import AuditEvent

    for event in session.scalars(select(AuditEvent).where(AuditEvent.kind == "submission.scored")):
        data = json.loads(event.data)
        del data["public_metrics"], data["private_metrics"]
        event.data = json.dumps(data, sort_keys=True, separators=(",", ":"))
    session.commit()
    assert verify_state(session).agrees
    found = _tampered(
        session,
        "UPDATE submissions SET public_metrics = NULL, public_score = 0.3 WHERE id = :i",
        i=history.a_other,
    )
    assert found == [f"submission {history.a_other}: public_score is 0.3, the log says 0.5"]
