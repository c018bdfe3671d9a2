"""Judges' pages: their challenges, the private board, the re-run and the verdict."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from challenges import service as challenges
from challenges.models import AFTER_CLOSE, Challenge, ChallengeJudge
from challenges.policy import AccountAction, Action, can
from challenges.targets import check_targets
from evaluator.reruns import enqueue_rerun
from jiebang.accounts import Role
from jiebang.errors import NotFound, ServiceError
from leaderboards.decision import award_of, judging_state, record_verdict, rerun_winner
from leaderboards.models import Verdict
from web.errors import translate
from web.ext import cached_board, db, services
from web.forms import VerdictForm
from web.roles import allowed_or_404, role_required

bp = Blueprint("judge", __name__, url_prefix="/judge")


@bp.get("")
@role_required(Role.judge, Role.admin)
def index():
    """A judge's assigned challenges; an administrator sees every challenge after close."""
    query = select(Challenge).order_by(Challenge.closes_at.desc())
    if can(db(), current_user, AccountAction.see_all_orgs):
        query = query.where(Challenge.status.in_(sorted(AFTER_CLOSE)))
    else:
        query = query.join(ChallengeJudge).where(ChallengeJudge.user_id == current_user.id)
    return render_template("judge.html", challenges=list(db().scalars(query)))


def _judged(slug: str) -> Challenge:
    """The challenge if this user judges it (or administers the site); else a 404."""
    try:
        item = challenges.get_challenge(db(), slug)
    except NotFound:
        abort(404)
    allowed_or_404(Action.see_judging, item)
    return item


@bp.get("/<slug>")
@role_required(Role.judge, Role.admin)
def challenge(slug: str):
    item = _judged(slug)
    session = db()
    try:
        # The API's question too: the judging view opens when the challenge closes.
        state = judging_state(session, item)
    except ServiceError as exc:
        flash(translate(exc), "error")
        return redirect(url_for("judge.index"))
    checks = []
    if state.winner is not None:
        winner = state.winner
        checks = check_targets(
            item.targets,
            scores=winner.metrics,
            runtime_s=winner.runtime_s,
            peak_memory_mb=winner.peak_memory_mb,
        )
    verdicts = session.scalars(
        select(Verdict).where(Verdict.challenge_id == item.id).order_by(Verdict.id)
    )
    return render_template(
        "judge_challenge.html",
        challenge=item,
        # The top of the private board (its first page); every team's place is in the API.
        board=cached_board(item, private=True, page=1, per_page=100).entries,
        state=state,
        checks=list(zip(item.targets, checks, strict=False)),
        verdicts=list(verdicts),
        award=award_of(session, item),
        form=VerdictForm(),
        is_judge=can(session, current_user, Action.judge, item),
    )


@bp.post("/<slug>/rerun")
@role_required(Role.judge)
def rerun(slug: str):
    session = db()
    item = _judged(slug)
    try:
        new = rerun_winner(session, item, judge=current_user)
        session.commit()
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
    else:
        enqueue_rerun(services().redis, new, services().settings)
        flash(_("Re-run queued. This page shows its result when it is done."), "success")
    return redirect(url_for("judge.challenge", slug=slug))


@bp.post("/<slug>/verdict")
@role_required(Role.judge)
def verdict(slug: str):
    session = db()
    item = _judged(slug)
    form = VerdictForm()
    if not form.validate_on_submit():
        flash(_("Choose approve or disqualify."), "error")
        return redirect(url_for("judge.challenge", slug=slug))
    try:
        record_verdict(
            session,
            item,
            judge=current_user,
            decision=form.decision.data,
            reason=form.reason.data or "",
        )
        session.commit()
        flash(_("Verdict recorded."), "success")
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
    return redirect(url_for("judge.challenge", slug=slug))
