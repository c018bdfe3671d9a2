"""Teams take up a challenge: create, join by code."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from challenges.models import Challenge, Membership, Status, Team
from challenges.policy import Action, require
from challenges.team_rules import frozen_refusal, join_refusal
from jiebang.accounts import User
from jiebang.db import utcnow
from jiebang.errors import Conflict, Forbidden, NotFound
from jiebang.names import clean_name, name_key

JOINABLE = (Status.open.value,)


def team_of(session: Session, *, user: User, challenge: Challenge) -> Team | None:
    query = (
        select(Team)
        .join(Membership)
        .where(Membership.user_id == user.id, Membership.challenge_id == challenge.id)
    )
    return session.scalar(query)


def create_team(session: Session, *, user: User, challenge: Challenge, name: str) -> Team:
    name = clean_name(name, field="name", low=2, high=100)
    key = name_key(name)
    if challenge.status not in JOINABLE:
        raise Forbidden("challenge", "Teams can only be formed while the challenge is open.")
    if team_of(session, user=user, challenge=challenge) is not None:
        raise Conflict("team", "You are in a team for this challenge already.")
    require(session, user, Action.compete, challenge)
    if refused := join_refusal(session, user=user, team=None, challenge=challenge, now=utcnow()):
        raise refused
    taken = select(Team.name).where(Team.challenge_id == challenge.id, Team.name_key == key)
    if (existing := session.scalar(taken)) is not None:
        raise _taken(existing)
    team = Team(
        challenge_id=challenge.id,
        name=name,
        name_key=key,
        join_code=secrets.token_urlsafe(9),
        created_by=user.id,
    )
    team.memberships.append(Membership(user_id=user.id, challenge_id=challenge.id))
    try:
        # Two requests may pass the check above at once; the unique keys decide.
        with session.begin_nested():
            session.add(team)
            session.flush()
    except IntegrityError:
        if team_of(session, user=user, challenge=challenge) is not None:
            raise Conflict("team", "You are in a team for this challenge already.") from None
        raise _taken(name) from None
    return team


def _taken(name: str) -> Conflict:
    return Conflict(
        "name",
        "The team name %(name)s is taken in this challenge (names that differ only in case, "
        "width or spaces count as the same); choose another.",
        name=name,
    )


def join_team(session: Session, *, user: User, team: Team, join_code: str) -> Team:
    if join_code.strip() != team.join_code:
        raise Forbidden("join_code", "That join code is not right; ask your team for it.")
    challenge = session.get(Challenge, team.challenge_id)
    if challenge is None or challenge.status not in JOINABLE:
        raise Forbidden("challenge", "Teams can only be joined while the challenge is open.")
    if team_of(session, user=user, challenge=challenge) is not None:
        raise Conflict("team", "You are in a team for this challenge already.")
    require(session, user, Action.compete, challenge)
    if refused := join_refusal(session, user=user, team=team, challenge=challenge, now=utcnow()):
        raise refused
    size = session.scalar(select(func.count()).where(Membership.team_id == team.id))
    if size >= challenge.team_size:
        raise Conflict("team", "This team is full (%(n)d members at most).", n=challenge.team_size)
    session.add(Membership(team_id=team.id, user_id=user.id, challenge_id=challenge.id))
    session.flush()
    return team


def get_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("team", "No team %(id)s.", id=team_id)
    return team


def leave_team(session: Session, *, user: User, team: Team, has_submitted: bool) -> None:
    """Leave while the challenge is open, if you have not submitted for this team.

    Otherwise one person could spend several teams' quotas in turn. Submissions
    belong to the evaluator, a layer above: it answers ``has_submitted`` and
    calls this (``evaluator.membership.leave_team``). The team stays, for the
    record, even when its last member leaves.
    """
    challenge = session.get(Challenge, team.challenge_id)
    if challenge is None or challenge.status not in JOINABLE:
        raise Forbidden("challenge", "Teams can only be left while the challenge is open.")
    if (refused := frozen_refusal(challenge, utcnow())) is not None:
        raise refused
    membership = session.scalar(
        select(Membership).where(Membership.team_id == team.id, Membership.user_id == user.id)
    )
    if membership is None:
        raise NotFound("team", "You are not in this team.")
    if has_submitted:
        raise Conflict("team", "You have submitted for this team, so you stay in it.")
    session.delete(membership)
    session.flush()
