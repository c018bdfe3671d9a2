"""The award decision: freeze the private board, judge the provisional winner, award.

After close the provisional winner is the top team of the private board whose
result meets every target and that no judge has disqualified. An assigned judge
re-runs that submission; once the re-run reproduces the score, the judge may
approve (the prize is awarded and published) or, at any time, disqualify with a
reason (the decision moves to the next eligible team). No eligible team left
means the challenge ends unclaimed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, joinedload

from challenges import eligibility
from challenges.models import Challenge, Status, Team
from challenges.notices import ended, provisional_result
from challenges.policy import Action, require
from evaluator.listing import one_submission
from evaluator.models import Submission
from evaluator.reruns import latest_rerun, reproduces, request_rerun
from jiebang import audit
from jiebang.accounts import User
from jiebang.db import utcnow
from jiebang.errors import Forbidden, Invalid
from jiebang.paging import Page, page_of
from leaderboards.board import Entry, private_board
from leaderboards.models import Award, AwardStatus, Decision, Verdict


def disqualified_teams(session: Session, challenge: Challenge) -> set[int]:
    query = select(Verdict.team_id).where(
        Verdict.challenge_id == challenge.id, Verdict.decision == Decision.disqualify.value
    )
    return set(session.scalars(query))


def provisional_winner(
    session: Session, challenge: Challenge, *, board: list[Entry] | None = None
) -> Entry | None:
    """The first entry of the private board (``board`` if already ranked) that meets
    every target and was not disqualified."""
    out = disqualified_teams(session, challenge)
    board = private_board(session, challenge) if board is None else board
    return next((e for e in board if e.meets_targets and e.team_id not in out), None)


def _digest(entries: list[Entry]) -> str:
    rows = [[e.rank, e.team_id, e.submission_id, e.score, e.meets_targets] for e in entries]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def freeze(session: Session, challenge: Challenge, *, now: dt.datetime | None = None) -> str:
    """After close: record the private board and start judging, or end unclaimed.

    A conditional UPDATE claims the change, so when several workers tick at once
    only one freezes the board and records it.
    """
    if challenge.status != Status.closed.value:
        raise Invalid("status", "Only a closed challenge can be frozen.")
    board = private_board(session, challenge)
    winner = provisional_winner(session, challenge, board=board)
    eligible = winner is not None
    target = Status.judging if eligible else Status.unclaimed
    claimed = session.execute(
        update(Challenge)
        .where(Challenge.id == challenge.id, Challenge.status == Status.closed.value)
        .values(status=target.value, frozen_at=now or utcnow())
    )
    session.refresh(challenge)
    if claimed.rowcount != 1:
        return challenge.status
    audit.record(
        session,
        "board.frozen",
        challenge_id=challenge.id,
        digest=_digest(board),
        teams=len(board),
        top=[[e.team_id, e.submission_id, e.score] for e in board[:10]],
    )
    if not eligible:
        _end_unclaimed(session, challenge, actor=None)
    else:
        provisional_result(session, challenge, team=winner.team)
    return challenge.status


def _end_unclaimed(session: Session, challenge: Challenge, *, actor: User | None) -> Award:
    challenge.status = Status.unclaimed.value
    award = Award(
        challenge_id=challenge.id,
        status=AwardStatus.unclaimed.value,
        amount=0,
        currency=challenge.prize_currency,
        decided_by=actor.id if actor else None,
    )
    session.add(award)
    audit.record(
        session, "award.unclaimed", actor_id=actor.id if actor else None, challenge_id=challenge.id
    )
    ended(session, challenge, team=None)
    return award


@dataclass(frozen=True)
class JudgingState:
    winner: Entry | None
    submission: Submission | None
    rerun: Submission | None
    reproduces: bool | None


def judging_state(session: Session, challenge: Challenge) -> JudgingState:
    """The provisional winner, its latest re-run and whether it reproduces; read off
    the private board, so only after close."""
    if not challenge.is_after_close(utcnow()):
        raise Forbidden("status", "The private board opens to judges when the challenge closes.")
    winner = provisional_winner(session, challenge)
    if winner is None:
        return JudgingState(None, None, None, None)
    sub = one_submission(session, winner.submission_id)
    rerun = latest_rerun(session, sub)
    return JudgingState(winner, sub, rerun, reproduces(sub, rerun))


def _check_judge(session: Session, challenge: Challenge, judge: User) -> None:
    require(session, judge, Action.judge, challenge)
    if challenge.status != Status.judging.value:
        raise Invalid("status", "This challenge is not being judged.")


def _check_conflict(session: Session, judge: User, team_id: int | None) -> None:
    """A judge whose organization is among the team's (its lead or a partner) may not
    judge it."""
    team = session.get(Team, team_id) if team_id is not None else None
    if team is not None and eligibility.conflicted(session, user=judge, team=team):
        raise Forbidden(
            "judge",
            "Your organization is one of this team's organizations, so you may not judge it; "
            "another judge decides.",
        )


def rerun_winner(session: Session, challenge: Challenge, *, judge: User) -> Submission:
    """An assigned judge re-runs the provisional winner's submission, one re-run at a
    time; the caller commits, then ``enqueue_rerun``."""
    _check_judge(session, challenge, judge)
    state = judging_state(session, challenge)
    if state.submission is None:
        raise Invalid("status", "There is no provisional winner to re-run.")
    _check_conflict(session, judge, state.winner.team_id)
    return request_rerun(session, original=state.submission, judge=judge)


def record_verdict(
    session: Session, challenge: Challenge, *, judge: User, decision: str, reason: str = ""
) -> Verdict:
    """Approve or disqualify the current provisional winner."""
    _check_judge(session, challenge, judge)
    try:
        decision = Decision(decision)
    except ValueError:
        raise Invalid("decision", "decision must be 'approve' or 'disqualify'.") from None
    state = judging_state(session, challenge)
    if state.winner is None:
        raise Invalid("status", "There is no eligible team left to judge.")
    _check_conflict(session, judge, state.winner.team_id)
    reason = reason.strip()
    if decision == Decision.disqualify and len(reason) < 5:
        raise Invalid("reason", "Give the reason for a disqualification.")
    if decision == Decision.approve and state.reproduces is not True:
        raise Invalid(
            "decision", "Re-run the submission and wait until it reproduces before approving."
        )
    verdict = Verdict(
        challenge_id=challenge.id,
        team_id=state.winner.team_id,
        submission_id=state.winner.submission_id,
        rerun_id=state.rerun.id if state.rerun else None,
        judge_id=judge.id,
        decision=decision.value,
        reason=reason,
    )
    session.add(verdict)
    session.flush()
    audit.record(
        session,
        f"verdict.{decision.value}",
        actor_id=judge.id,
        challenge_id=challenge.id,
        team=verdict.team_id,
        submission=verdict.submission_id,
        rerun=verdict.rerun_id,
        reason=reason,
    )
    if decision == Decision.approve:
        _award(session, challenge, state, judge)
    elif provisional_winner(session, challenge) is None:
        _end_unclaimed(session, challenge, actor=judge)
    return verdict


def _award(session: Session, challenge: Challenge, state: JudgingState, judge: User) -> Award:
    challenge.status = Status.awarded.value
    award = Award(
        challenge_id=challenge.id,
        status=AwardStatus.awarded.value,
        team_id=state.winner.team_id,
        submission_id=state.winner.submission_id,
        score=state.winner.score,
        amount=challenge.prize_amount,
        currency=challenge.prize_currency,
        decided_by=judge.id,
    )
    session.add(award)
    audit.record(
        session,
        "award.awarded",
        actor_id=judge.id,
        challenge_id=challenge.id,
        team=award.team_id,
        submission=award.submission_id,
        amount=str(award.amount),
        currency=award.currency,
    )
    ended(session, challenge, team=state.winner.team)
    return award


def award_of(session: Session, challenge: Challenge) -> Award | None:
    return session.scalar(select(Award).where(Award.challenge_id == challenge.id))


def hall_of_winners(session: Session) -> list[Award]:
    return list(session.scalars(_winners()))


def winners_page(session: Session, *, page: int, per_page: int) -> Page:
    """One page of ``hall_of_winners``, cut in SQL (with a count); each award comes with
    its challenge and team in the same statement."""
    query = _winners().options(joinedload(Award.challenge).lazyload(Challenge.files))
    return page_of(session, query, page=page, per_page=per_page)


def _winners() -> Select:
    """Every decided challenge's award, latest first (then by id: a total order)."""
    return select(Award).order_by(Award.decided_at.desc(), Award.id.desc())
