"""Routes the command-line client needs beyond the others: joining a team by its join
code alone, and replacing a draft with a whole bundle."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import g, request
from sqlalchemy import select

from challenges import redraft, teams
from challenges import service as challenges
from challenges.bundle import ChallengeBundleError, open_bundle
from challenges.models import Challenge, Team
from challenges.policy import Action, require
from jiebang.errors import Forbidden, Invalid
from web.api import read
from web.api import schemas as s
from web.api.base import bp, parse, token_required
from web.api.openapi import doc
from web.errors import api_error
from web.ext import db, services
from web.uploads import challenge_body, work_dir


@bp.post("/teams/join")
@doc(
    "Join a team with its join code alone (the code names the team)",
    s.TeamJoined,
    tag="teams",
    scope="submit",
    body=s.TeamJoin,
)
@token_required("submit")
def join_by_code():
    session = db()
    code = parse(s.TeamJoin).join_code.strip()
    team = session.scalar(select(Team).where(Team.join_code == code))
    if team is None:
        raise Forbidden("join_code", "That join code is not right; ask your team for it.")
    teams.join_team(session, user=g.api_user, team=team, join_code=code)
    session.commit()
    return read.reply(
        s.TeamJoined(
            id=team.id, name=team.name, challenge=session.get(Challenge, team.challenge_id).slug
        )
    )


@bp.put("/challenges/<slug>")
@challenge_body
@doc(
    "Sponsor: replace a draft with a challenge bundle (zip); slug and sponsor stay",
    s.ChallengeCreated,
    tag="sponsors",
    scope="manage",
    multipart={"bundle": {"type": "string", "format": "binary", "required": True}},
    details="Only a draft: one in review or published is not changed this way.",
)
@token_required("manage")
def update_challenge(slug: str):
    session = db()
    # Who may, before a byte of the body is read: others learn nothing of a draft.
    item = challenges.get_challenge(session, slug)
    require(session, g.api_user, Action.manage_challenge, item)
    challenges.check_editable(item)
    upload = request.files.get("bundle")
    if upload is None:
        raise Invalid("bundle", "Send the bundle zip as multipart form field 'bundle'.")
    with tempfile.TemporaryDirectory(prefix="jiebang-update-", dir=work_dir()) as tmp:
        path = Path(tmp) / "bundle.zip"
        upload.save(path)
        try:
            with open_bundle(path, workdir=Path(tmp)) as bundle:
                redraft.update_from_bundle(
                    session, challenge=item, bundle=bundle, blobs=services().blobs, actor=g.api_user
                )
        except ChallengeBundleError as exc:
            return api_error("invalid_bundle", "; ".join(exc.problems), 400, "bundle")
    session.commit()
    return read.reply(s.ChallengeCreated(slug=item.slug, status=item.status))
