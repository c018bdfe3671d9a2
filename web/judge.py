"""Judges' pages: their challenges, the private board, the re-run and the verdict."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from challenges import service as challenges
from challenges.models import AFTER_CLOSE, Challenge, ChallengeJudge
from challenges.policy import AccountAction, Action, can, judges_any
from challenges.targets import check_targets
from evaluator.reruns import enqueue_rerun
from jiebang.errors import NotFound, ServiceError
from jiebang.policy import is_admin
from leaderboards.decision import award_of, judging_state, record_verdict, rerun_winner
from leaderboards.models import Verdict
from web.confirm import ask, confirmed
from web.errors import translate
from web.ext import cached_board, db, services
from web.forms import VerdictForm
from web.roles import allowed_or_404

bp = Blueprint("judge", __name__, url_prefix="/judge")


@bp.app_context_processor
def _judging_link():
    """The navigation's "Judging" link: for judge accounts, administrators and anyone
    assigned to judge a challenge (asked only when a page draws the link)."""
    return {"judges_something": lambda: judges_any(db(), current_user)}


def judges_required(view=None, *, admins: bool = True):
    """Logged in and judging something: an account of role judge, any account an
    administrator assigned to a challenge (the assignment is the role), and, where
    ``admins``, administrators. Others get a 404, as ``role_required`` answers."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            admitted = admins and is_admin(current_user)
            if not (admitted or judges_any(db(), current_user)):
                abort(404)
            return view(*args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


@bp.get("")
@judges_required
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
@judges_required
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
@judges_required(admins=False)
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
@judges_required(admins=False)
def verdict(slug: str):
    session = db()
    item = _judged(slug)
    form = VerdictForm()
    if not form.validate_on_submit():
        flash(_("Choose approve or disqualify."), "error")
        return redirect(url_for("judge.challenge", slug=slug))
    if not confirmed():
        return _ask_verdict(item, form.decision.data)
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


def _ask_verdict(item: Challenge, decision: str):
    """What the verdict will do, before it is recorded: it cannot be taken back."""
    state = judging_state(db(), item)
    team = state.winner.team if state.winner is not None else "—"
    if decision == "approve":
        consequences = [
            _(
                "The prize of %(amount)s %(currency)s is awarded to team %(team)s and shown "
                "in the hall of winners.",
                amount=item.prize_amount,
                currency=item.prize_currency,
                team=team,
            ),
            _("The challenge ends: no other team can win it."),
        ]
    else:
        consequences = [
            _(
                "Team %(team)s is disqualified; your reason is recorded in the audit log.",
                team=team,
            ),
            _(
                "Judging moves on to the next eligible team; if none is left, the challenge "
                "ends unclaimed."
            ),
        ]
    return ask(
        title=_("Record this verdict?"),
        consequences=consequences,
        button=_("Record the verdict"),
        back=url_for("judge.challenge", slug=item.slug),
    )
