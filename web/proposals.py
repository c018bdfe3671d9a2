"""Proposal pages (申报书): a team's proposal, reviewers' scoring, the sponsor's shortlist."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from challenges import proposals
from challenges.policy import Action
from challenges.proposal_models import ProposalReviewer
from challenges.teams import team_of
from jiebang.accounts import User, normalize_email
from jiebang.db import utcnow
from jiebang.errors import NotFound, ServiceError
from web.acting import finish
from web.ext import db, services
from web.proposal_files import send_proposal
from web.roles import allowed_or_404, published_or_404
from web.uploads import large_body

bp = Blueprint("proposals", __name__)


@bp.app_context_processor
def _navigation():
    def reviews_something() -> bool:
        """The signed-in user reviews some challenge's proposals (the "Reviews" link)."""
        if not current_user.is_authenticated:
            return False
        query = select(ProposalReviewer.id).where(ProposalReviewer.user_id == current_user.id)
        return db().scalar(query.limit(1)) is not None

    return {"reviews_something": reviews_something, "proposal_due": proposals.due_of}


def _staged(slug: str):
    """A published challenge with a proposal stage; a 404 otherwise."""
    return published_or_404(slug, asking="proposal")


def _done(exc: ServiceError | None, target: str, message: str = "", **values):
    return finish(exc, url_for(target, **values), message)


# --- a team --------------------------------------------------------------------------


@bp.get("/challenges/<slug>/proposal")
@login_required
def team_page(slug: str):
    item = _staged(slug)
    team = team_of(db(), user=current_user, challenge=item)
    if team is None:
        flash(_("Create or join a team first; the team hands in its proposal."), "error")
        return redirect(url_for("challenge.team", slug=slug))
    view = proposals.team_view(db(), challenge=item, team=team, user=current_user, now=utcnow())
    names = {c["name"]: c["title"] for c in item.proposal["criteria"]}
    return render_template(
        "proposal_team.html", challenge=item, team=team, view=view, names=names, tab="team"
    )


@bp.post("/challenges/<slug>/proposal")
@large_body
@login_required
def upload(slug: str):
    item = _staged(slug)
    team = team_of(db(), user=current_user, challenge=item)
    file = request.files.get("file")
    error = None
    if team is None:
        abort(404)
    if file is None or not file.filename:
        flash(_("Choose your proposal's PDF file."), "error")
        return redirect(url_for("proposals.team_page", slug=slug))
    try:
        proposals.upload(
            db(),
            user=current_user,
            team=team,
            challenge=item,
            stream=file.stream,
            filename=file.filename,
            blobs=services().blobs,
            now=utcnow(),
        )
    except ServiceError as exc:
        error = exc
    return _done(error, "proposals.team_page", _("Proposal received."), slug=slug)


@bp.get("/challenges/<slug>/proposals/<id:team_id>/file")
@login_required
def file(slug: str, team_id: int):
    item = _staged(slug)
    try:
        prop = proposals.get_proposal(db(), challenge=item, team_id=team_id, user=current_user)
    except NotFound:
        abort(404)
    return send_proposal(prop)


# --- the sponsor ---------------------------------------------------------------------


@bp.get("/challenges/<slug>/proposals")
@login_required
def sponsor_page(slug: str):
    item = _staged(slug)
    allowed_or_404(Action.manage_proposals, item)
    session = db()
    rows = proposals.totals(session, challenge=item, user=current_user)
    scores = {
        r.team_id: proposals.scores_of(
            session, challenge=item, team_id=r.team_id, user=current_user
        )
        for r in rows
    }
    names = {c["name"]: c["title"] for c in item.proposal["criteria"]}
    return render_template(
        "proposals_sponsor.html",
        challenge=item,
        rows=rows,
        scores=scores,
        names=names,
        reviewers=proposals.reviewers(session, item),
        final=proposals.is_final(session, item),
        size=proposals.shortlist_size(item),
        due=proposals.due_of(item),
    )


@bp.post("/challenges/<slug>/proposals/reviewers")
@login_required
def add_reviewer(slug: str):
    item = _staged(slug)
    allowed_or_404(Action.manage_proposals, item)
    session = db()
    email = request.form.get("email", "")
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    error = None
    try:
        if user is None:
            raise NotFound("email", "No account with the address %(email)s.", email=email)
        proposals.assign_reviewer(session, challenge=item, user=user, actor=current_user)
    except ServiceError as exc:
        error = exc
    return _done(error, "proposals.sponsor_page", _("Reviewer assigned."), slug=slug)


@bp.post("/challenges/<slug>/proposals/reviewers/<id:user_id>/remove")
@login_required
def remove_reviewer(slug: str, user_id: int):
    item = _staged(slug)
    allowed_or_404(Action.manage_proposals, item)
    error = None
    try:
        proposals.unassign_reviewer(db(), challenge=item, user_id=user_id, actor=current_user)
    except ServiceError as exc:
        error = exc
    return _done(error, "proposals.sponsor_page", _("Reviewer removed."), slug=slug)


@bp.post("/challenges/<slug>/proposals/shortlist")
@login_required
def shortlist(slug: str):
    item = _staged(slug)
    allowed_or_404(Action.manage_proposals, item)
    session = db()
    chosen = [int(t) for t in request.form.getlist("team") if t.isdigit()]
    final = request.form.get("final") == "1"
    error = None
    try:
        proposals.choose(session, challenge=item, team_ids=chosen, actor=current_user)
        if final:
            proposals.finalize(session, challenge=item, actor=current_user, now=utcnow())
    except ServiceError as exc:
        error = exc
    message = _("The shortlist is final; the teams are told.") if final else _("Shortlist saved.")
    return _done(error, "proposals.sponsor_page", message, slug=slug)


@bp.post("/challenges/<slug>/proposals/release")
@login_required
def release(slug: str):
    item = _staged(slug)
    allowed_or_404(Action.manage_proposals, item)
    session = db()
    shown = {int(s) for s in request.form.getlist("release") if s.isdigit()}
    every = {int(s) for s in request.form.getlist("comment") if s.isdigit()}
    error = None
    try:
        proposals.release(
            session, challenge=item, score_ids=sorted(shown), released=True, actor=current_user
        )
        proposals.release(
            session,
            challenge=item,
            score_ids=sorted(every - shown),
            released=False,
            actor=current_user,
        )
    except ServiceError as exc:
        error = exc
    return _done(error, "proposals.sponsor_page", _("Released comments saved."), slug=slug)


# --- reviewers -----------------------------------------------------------------------


@bp.get("/review")
@login_required
def review_index():
    return render_template(
        "review.html", challenges=proposals.assigned_challenges(db(), current_user)
    )


@bp.get("/review/<slug>")
@login_required
def review_challenge(slug: str):
    item = _staged(slug)
    allowed_or_404(Action.review_proposals, item)
    items = proposals.reviewable(db(), challenge=item, reviewer=current_user)
    return render_template(
        "review_challenge.html",
        challenge=item,
        items=items,
        criteria=item.proposal["criteria"],
        final=proposals.is_final(db(), item),
    )


@bp.post("/review/<slug>/<id:team_id>")
@login_required
def score(slug: str, team_id: int):
    item = _staged(slug)
    allowed_or_404(Action.review_proposals, item)
    scores, comments = {}, {}
    error = None
    for criterion in item.proposal["criteria"]:
        name = criterion["name"]
        raw = request.form.get(f"score-{name}", "").strip()
        scores[name] = int(raw) if raw.lstrip("-").isdigit() else None
        comments[name] = request.form.get(f"comment-{name}", "")
    try:
        given = {k: v for k, v in scores.items() if v is not None}
        proposals.score(
            db(),
            challenge=item,
            team_id=team_id,
            reviewer=current_user,
            scores=given,
            comments=comments,
        )
    except ServiceError as exc:
        error = exc
    return _done(error, "proposals.review_challenge", _("Scores saved."), slug=slug)
