"""Teams over the API."""

from __future__ import annotations

from flask import g

from challenges import service as challenges
from challenges import teams
from evaluator import membership
from web.api import read
from web.api import schemas as s
from web.api.base import bp, parse, token_required
from web.api.openapi import doc
from web.ext import db


@bp.post("/challenges/<slug>/teams")
@doc(
    "Create a team for a challenge",
    s.TeamCreated,
    tag="teams",
    status=201,
    scope="submit",
    body=s.TeamCreate,
)
@token_required("submit")
def create_team(slug: str):
    session = db()
    name = parse(s.TeamCreate).name
    challenge = challenges.get_challenge(session, slug, public_only=True)
    team = teams.create_team(session, user=g.api_user, challenge=challenge, name=name)
    session.commit()
    return read.reply(s.TeamCreated.model_validate(team, from_attributes=True), 201)


@bp.post("/teams/<id:team_id>/join")
@doc("Join a team with its join code", s.TeamRef, tag="teams", scope="submit", body=s.TeamJoin)
@token_required("submit")
def join_team(team_id: int):
    session = db()
    code = parse(s.TeamJoin).join_code
    team = teams.join_team(
        session, user=g.api_user, team=teams.get_team(session, team_id), join_code=code
    )
    session.commit()
    return read.reply(s.TeamRef.model_validate(team, from_attributes=True))


@bp.post("/teams/<id:team_id>/leave")
@doc(
    "Leave a team (only if you have not submitted for it)", s.TeamLeft, tag="teams", scope="submit"
)
@token_required("submit")
def leave_team(team_id: int):
    session = db()
    membership.leave_team(session, user=g.api_user, team=teams.get_team(session, team_id))
    session.commit()
    return read.reply(s.TeamLeft(left=team_id))
