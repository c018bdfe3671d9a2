import datetime as dt
import io

import pytest

from evaluator.intake import day_start, submit, used_today
from evaluator.models import Failure, State, Submission
from jiebang import audit
from jiebang.errors import Forbidden, TooMany

SHANGHAI_MIDNIGHT = dt.datetime(2026, 11, 22, 16, 0, tzinfo=dt.UTC)  # 00:00 on the 23rd, +08:00


def _zip() -> io.BytesIO:
    import zipfile

    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("main.py", "print(1)\n")
    data.seek(0)
    return data


@pytest.fixture
def team_member(world, session):
    challenge = world.challenge()
    user = world.user("m@example.com")
    world.team(challenge, user)
    return challenge, user


def _submit(session, challenge, user, blobs, settings, now):
    return submit(
        session,
        user=user,
        challenge=challenge,
        upload=_zip(),
        kind="bundle",
        blobs=blobs,
        settings=settings,
        now=now,
    )


def test_day_starts_at_midnight_in_the_challenge_zone(team_member):
    challenge, _ = team_member
    assert day_start(challenge, SHANGHAI_MIDNIGHT - dt.timedelta(seconds=1)) == dt.datetime(
        2026, 11, 21, 16, 0, tzinfo=dt.UTC
    )
    assert day_start(challenge, SHANGHAI_MIDNIGHT) == SHANGHAI_MIDNIGHT


def test_daily_quota_resets_at_local_midnight(team_member, session, blobs, settings):
    challenge, user = team_member
    before = SHANGHAI_MIDNIGHT - dt.timedelta(minutes=5)
    for _ in range(3):
        _submit(session, challenge, user, blobs, settings, before)
    with pytest.raises(TooMany, match="3 submissions for today"):
        _submit(session, challenge, user, blobs, settings, before + dt.timedelta(minutes=4))
    sub = _submit(session, challenge, user, blobs, settings, SHANGHAI_MIDNIGHT)
    assert sub.status == State.queued


def test_platform_failures_do_not_count(team_member, session, blobs, settings, now):
    challenge, user = team_member
    subs = [_submit(session, challenge, user, blobs, settings, now) for _ in range(3)]
    subs[0].status, subs[0].failure = State.failed.value, Failure.infrastructure.value
    subs[1].status, subs[1].failure = State.failed.value, Failure.crash.value
    session.flush()
    assert used_today(session, team_id=subs[0].team_id, challenge=challenge, now=now) == 2
    _submit(session, challenge, user, blobs, settings, now)


def test_window_and_membership(team_member, world, session, blobs, settings):
    challenge, user = team_member
    with pytest.raises(Forbidden, match="not open"):
        _submit(
            session, challenge, user, blobs, settings, challenge.opens_at - dt.timedelta(seconds=1)
        )
    with pytest.raises(Forbidden, match="closed"):
        _submit(session, challenge, user, blobs, settings, challenge.closes_at)
    outsider = world.user("x@example.com")
    with pytest.raises(Forbidden, match="team"):
        _submit(session, challenge, outsider, blobs, settings, challenge.opens_at)


def test_received_is_audited_with_the_sha256(team_member, session, blobs, settings, now):
    challenge, user = team_member
    sub = _submit(session, challenge, user, blobs, settings, now)
    event = audit.events_for(session, challenge.id)[-1]
    assert event.kind == "submission.received"
    assert sub.blob_sha256 in event.data
    assert session.get(Submission, sub.id).size == blobs.path(sub.blob_sha256).stat().st_size


def test_running_limit_and_reruns_do_not_count(world, session, blobs, settings, now):
    challenge = world.challenge(limits={"daily_submissions": 10, "running_submissions": 2})
    user = world.user("r@example.com")
    world.team(challenge, user)
    first = _submit(session, challenge, user, blobs, settings, now)
    _submit(session, challenge, user, blobs, settings, now)
    with pytest.raises(TooMany, match="waiting or running"):
        _submit(session, challenge, user, blobs, settings, now)
    first.status = State.scored.value
    session.flush()
    _submit(session, challenge, user, blobs, settings, now)
