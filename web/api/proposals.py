"""The proposal stage over the API: a team's proposal, reviewers, scores, the shortlist."""

from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from challenges import proposals
from challenges import service as challenges
from challenges.policy import Action, can, require
from challenges.proposal_models import Proposal
from challenges.teams import team_of
from jiebang.accounts import User, normalize_email
from jiebang.db import utcnow
from jiebang.errors import Invalid, NotFound
from web.api import proposal_schemas as p
from web.api import read
from web.api.base import bp, parse, token_required
from web.api.openapi import doc
from web.ext import db, services
from web.proposal_files import send_proposal
from web.uploads import is_raw_upload, large_body


def _challenge(slug: str):
    return challenges.get_challenge(db(), slug, public_only=True)


def _file(prop: Proposal) -> p.ProposalFile:
    return p.ProposalFile(
        team_id=prop.team_id,
        team=prop.team.name,
        filename=prop.filename,
        size=prop.size,
        sha256=prop.sha256,
        uploaded_at=prop.uploaded_at,
    )


def _my_team(challenge):
    team = team_of(db(), user=g.api_user, challenge=challenge)
    if team is None:
        raise NotFound("team", "You have no team in this challenge.")
    return team


def _state(challenge, team) -> p.ProposalState:
    view = proposals.team_view(db(), challenge=challenge, team=team, user=g.api_user, now=utcnow())
    return p.ProposalState(
        due=view.due,
        open=view.open,
        final=view.final,
        shortlisted=view.shortlisted,
        proposal=_file(view.proposal) if view.proposal else None,
        comments=[p.ReleasedComment(criterion=c, comment=t) for c, t in view.comments],
    )


@bp.get("/challenges/<slug>/proposal")
@doc("Your team's proposal, its due date and result", p.ProposalState, tag="proposals")
@token_required("read")
def my_proposal(slug: str):
    challenge = _challenge(slug)
    return read.reply(_state(challenge, _my_team(challenge)))


@bp.post("/challenges/<slug>/proposal")
@large_body
@doc(
    "Hand in (or replace) your team's proposal: a PDF, before the due date",
    p.ProposalState,
    tag="proposals",
    status=201,
    scope="submit",
    multipart={"file": {"type": "string", "format": "binary", "required": True}},
    raw_body=True,
)
@token_required("submit")
def upload_proposal(slug: str):
    session = db()
    challenge = _challenge(slug)
    team = _my_team(challenge)
    if is_raw_upload(request) or request.mimetype == "application/pdf":
        stream, filename = request.stream, request.args.get("filename", "proposal.pdf")
    else:
        file = request.files.get("file")
        if file is None:
            raise Invalid("file", "Send the PDF as multipart form field 'file'.")
        stream, filename = file.stream, file.filename
    proposals.upload(
        session,
        user=g.api_user,
        team=team,
        challenge=challenge,
        stream=stream,
        filename=filename,
        blobs=services().blobs,
        now=utcnow(),
    )
    session.commit()
    return read.reply(_state(challenge, team), 201)


@bp.get("/challenges/<slug>/proposals")
@doc(
    "Sponsor: every proposal's total, best first; reviewer: the proposals to score",
    p.ProposalList,
    tag="proposals",
)
@token_required("read")
def list_proposals(slug: str):
    session = db()
    challenge = _challenge(slug)
    size = proposals.shortlist_size(challenge)
    final = proposals.is_final(session, challenge)
    if can(session, g.api_user, Action.manage_proposals, challenge):
        rows = proposals.totals(session, challenge=challenge, user=g.api_user)
        totals = [
            p.ProposalTotal(
                team_id=r.team_id,
                team=r.team_name,
                total=r.total,
                reviewers=r.reviewers,
                rank=r.rank,
                tied_at_cutoff=r.tied_at_cutoff,
                shortlisted=r.proposal.shortlisted,
                proposal=_file(r.proposal),
            )
            for r in rows
        ]
        return read.reply(p.ProposalList(shortlist=size, final=final, totals=totals))
    items = proposals.reviewable(session, challenge=challenge, reviewer=g.api_user)
    to_review = [
        p.ReviewItem(proposal=_file(prop), my_scores={k: v.score for k, v in mine.items()})
        for prop, mine in items
    ]
    return read.reply(p.ProposalList(shortlist=size, final=final, to_review=to_review))


@bp.get("/challenges/<slug>/proposals/<id:team_id>/file")
@doc(
    "The proposal's PDF (its team, the sponsor, reviewers without a conflict, administrators)",
    p.ProposalFile,
    tag="proposals",
    produces="application/pdf",
)
@token_required("read")
def proposal_file(slug: str, team_id: int):
    challenge = _challenge(slug)
    prop = proposals.get_proposal(db(), challenge=challenge, team_id=team_id, user=g.api_user)
    return send_proposal(prop)


def _scores(challenge, team_id: int) -> p.ScoreList:
    rows = proposals.scores_of(db(), challenge=challenge, team_id=team_id, user=g.api_user)
    return p.ScoreList(
        team_id=team_id,
        scores=[
            p.ScoreView(
                id=r.id,
                reviewer_id=r.reviewer_id,
                criterion=r.criterion,
                score=r.score,
                comment=r.comment,
                released=r.released,
            )
            for r in rows
        ],
    )


@bp.get("/challenges/<slug>/proposals/<id:team_id>/scores")
@doc(
    "A proposal's scores: every reviewer's (sponsor), your own (reviewer)",
    p.ScoreList,
    tag="proposals",
)
@token_required("read")
def get_scores(slug: str, team_id: int):
    return read.reply(_scores(_challenge(slug), team_id))


@bp.put("/challenges/<slug>/proposals/<id:team_id>/scores")
@doc(
    "Reviewer: score a proposal on every criterion (0 to 100) with comments",
    p.ScoreList,
    tag="proposals",
    scope="manage",
    body=p.ScoresUpdate,
)
@token_required("manage")
def put_scores(slug: str, team_id: int):
    session = db()
    challenge = _challenge(slug)
    require(session, g.api_user, Action.review_proposals, challenge)
    body = parse(p.ScoresUpdate)
    proposals.score(
        session,
        challenge=challenge,
        team_id=team_id,
        reviewer=g.api_user,
        scores=body.scores,
        comments=body.comments,
    )
    session.commit()
    return read.reply(_scores(challenge, team_id))


def _reviewers(challenge) -> p.ReviewerList:
    rows = proposals.reviewers(db(), challenge)
    return p.ReviewerList(
        reviewers=[
            p.ReviewerView(
                user_id=r.user_id, name=r.user.name, email=r.user.email, assigned_at=r.assigned_at
            )
            for r in rows
        ]
    )


@bp.get("/challenges/<slug>/reviewers")
@doc("Sponsor: the challenge's proposal reviewers", p.ReviewerList, tag="proposals")
@token_required("read")
def list_reviewers(slug: str):
    challenge = _challenge(slug)
    require(db(), g.api_user, Action.manage_proposals, challenge)
    return read.reply(_reviewers(challenge))


@bp.post("/challenges/<slug>/reviewers")
@doc(
    "Sponsor: assign a proposal reviewer by email",
    p.ReviewerList,
    tag="proposals",
    status=201,
    scope="manage",
    body=p.ReviewerCreate,
)
@token_required("manage")
def add_reviewer(slug: str):
    session = db()
    challenge = _challenge(slug)
    require(session, g.api_user, Action.manage_proposals, challenge)
    body = parse(p.ReviewerCreate)
    user = session.scalar(select(User).where(User.email == normalize_email(body.email)))
    if user is None:
        raise NotFound("email", "No account with the address %(email)s.", email=body.email)
    proposals.assign_reviewer(session, challenge=challenge, user=user, actor=g.api_user)
    session.commit()
    return read.reply(_reviewers(challenge), 201)


@bp.delete("/challenges/<slug>/reviewers/<id:user_id>")
@doc(
    "Sponsor: remove a reviewer (their scores go)", p.ReviewerList, tag="proposals", scope="manage"
)
@token_required("manage")
def remove_reviewer(slug: str, user_id: int):
    session = db()
    challenge = _challenge(slug)
    proposals.unassign_reviewer(session, challenge=challenge, user_id=user_id, actor=g.api_user)
    session.commit()
    return read.reply(_reviewers(challenge))


def _shortlist(challenge) -> p.ShortlistView:
    session = db()
    chosen = session.scalars(
        select(Proposal.team_id).where(
            Proposal.challenge_id == challenge.id, Proposal.shortlisted.is_(True)
        )
    )
    return p.ShortlistView(
        shortlist=proposals.shortlist_size(challenge),
        final=proposals.is_final(session, challenge),
        team_ids=sorted(chosen),
    )


@bp.get("/challenges/<slug>/shortlist")
@doc(
    "Sponsor: the teams chosen for the shortlist, and whether it is final",
    p.ShortlistView,
    tag="proposals",
)
@token_required("read")
def get_shortlist(slug: str):
    challenge = _challenge(slug)
    require(db(), g.api_user, Action.manage_proposals, challenge)
    return read.reply(_shortlist(challenge))


@bp.put("/challenges/<slug>/shortlist")
@doc(
    "Sponsor: choose the shortlist (at most its size; ties are yours to resolve); final: "
    "make it final and tell the teams",
    p.ShortlistView,
    tag="proposals",
    scope="manage",
    body=p.ShortlistUpdate,
)
@token_required("manage")
def put_shortlist(slug: str):
    session = db()
    challenge = _challenge(slug)
    require(session, g.api_user, Action.manage_proposals, challenge)
    body = parse(p.ShortlistUpdate)
    proposals.choose(session, challenge=challenge, team_ids=body.team_ids, actor=g.api_user)
    if body.final:
        proposals.finalize(session, challenge=challenge, actor=g.api_user, now=utcnow())
    session.commit()
    return read.reply(_shortlist(challenge))


@bp.post("/challenges/<slug>/proposals/comments")
@doc(
    "Sponsor: release reviewers' comments to the teams (or withdraw them)",
    p.Released,
    tag="proposals",
    scope="manage",
    body=p.CommentsRelease,
)
@token_required("manage")
def release_comments(slug: str):
    session = db()
    challenge = _challenge(slug)
    require(session, g.api_user, Action.manage_proposals, challenge)
    body = parse(p.CommentsRelease)
    changed = proposals.release(
        session, challenge=challenge, score_ids=body.score_ids, released=body.released,
        actor=g.api_user,
    )  # fmt: skip
    session.commit()
    return read.reply(p.Released(changed=changed))
