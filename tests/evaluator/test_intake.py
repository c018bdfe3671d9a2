import contextlib
import datetime as dt
import io
import threading

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


class _RacingUpload(io.BytesIO):
    """An upload that ends only when every parallel upload has passed the first quota
    check: the moment the race was lost (8 parallel uploads, quota 1: all queued)."""

    def __init__(self, data: bytes, barrier) -> None:
        super().__init__(data)
        self.barrier = barrier

    def read(self, size=-1):
        chunk = super().read(size)
        if not chunk:
            # A bounded wait: it only lines the uploads up.
            with contextlib.suppress(threading.BrokenBarrierError):
                self.barrier.wait(timeout=10)
        return chunk


@pytest.mark.parametrize(
    ("limits", "accepted"),
    [
        ({"daily_submissions": 1, "total_submissions": 1, "running_submissions": 1}, 1),
        ({"daily_submissions": 5, "running_submissions": 2}, 2),
        ({"daily_submissions": 3, "running_submissions": 10}, 3),
    ],
)
def test_parallel_uploads_take_exactly_the_quota(
    world, session, sessions, blobs, settings, now, limits, accepted
):
    from challenges.models import Challenge
    from jiebang.accounts import User

    challenge = world.challenge(limits={"final_selections": 2, "team_size": 5, **limits})
    user = world.user("racer@example.com")
    world.team(challenge, user)
    session.commit()
    n = 8
    barrier = threading.Barrier(n)
    results: list[object] = []

    def upload() -> None:
        with sessions() as own:
            try:
                sub = submit(
                    own,
                    user=own.get(User, user.id),
                    challenge=own.get(Challenge, challenge.id),
                    upload=_RacingUpload(_zip().getvalue(), barrier),
                    kind="bundle",
                    blobs=blobs,
                    settings=settings,
                    now=now,
                )
                own.commit()
                results.append(sub.id)
            except TooMany as exc:
                own.rollback()
                results.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == n
    assert sum(isinstance(r, int) for r in results) == accepted
    session.expire_all()
    assert session.query(Submission).count() == accepted
