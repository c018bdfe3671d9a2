"""Teams and submissions on the web: form a team, submit, follow the status."""

from __future__ import annotations

import math

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from challenges import service as challenges
from challenges import teams
from challenges.models import Membership
from challenges.policy import Action, can
from evaluator import membership, queueing
from evaluator.intake import submit_and_enqueue
from evaluator.models import Submission
from evaluator.selection import set_selected
from jiebang.errors import ServiceError
from web import receipt_pages
from web.api.read import submission_json
from web.errors import translate
from web.ext import db, services
from web.forms import JoinForm, SubmitForm, TeamForm
from web.roles import allowed_or_404
from web.uploads import into_blobs
from web.views import sight

bp = Blueprint("submissions", __name__)
bp.register_blueprint(receipt_pages.bp)  # receipts and the public keys


def _challenge(slug: str):
    return challenges.get_challenge(db(), slug, public_only=True)


def _back(slug: str, **args):
    return redirect(url_for("challenge.team", slug=slug, **args))


def _wants_json() -> bool:
    """The upload script asks for JSON so it can show errors without leaving the page."""
    return request.accept_mimetypes.best == "application/json"


def _refused(slug: str, message: str, status: int = 400):
    if _wants_json():
        return jsonify({"ok": False, "error": message}), status
    flash(message, "error")
    return _back(slug)


@bp.post("/challenges/<slug>/teams")
@login_required
def create_team(slug: str):
    form = TeamForm()
    session = db()
    # A refused name comes back in the form, so the user corrects it rather than retyping.
    typed = (form.name.data or "")[:100] or None
    if form.validate_on_submit():
        try:
            team = teams.create_team(
                session, user=current_user, challenge=_challenge(slug), name=form.name.data
            )
            session.commit()
            flash(
                _(
                    "Team created. Share the join code %(code)s with your team.",
                    code=team.join_code,
                ),
                "success",
            )
        except ServiceError as exc:
            session.rollback()
            flash(translate(exc), "error")
            return _back(slug, name=typed)
    else:
        flash(_("Give your team a name of 2 to 100 characters."), "error")
        return _back(slug, name=typed)
    return _back(slug)


@bp.post("/challenges/<slug>/join")
@login_required
def join_team(slug: str):
    form = JoinForm()
    session = db()
    try:
        challenge = _challenge(slug)
    except ServiceError:
        abort(404)
    code = (form.join_code.data or "").strip()
    team = session.scalar(
        select(teams.Team).where(
            teams.Team.join_code == code, teams.Team.challenge_id == challenge.id
        )
    )
    if not form.validate_on_submit() or team is None:
        flash(_("That join code is not right; ask your team for it."), "error")
        return _back(slug)
    try:
        teams.join_team(session, user=current_user, team=team, join_code=code)
        session.commit()
        flash(_("You joined team %(name)s.", name=team.name), "success")
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
    return _back(slug)


@bp.post("/challenges/<slug>/submissions")
@into_blobs
@login_required
def submit(slug: str):
    form = SubmitForm()
    session = db()
    if not form.validate_on_submit():
        return _refused(slug, _("Choose a file to upload."))
    svc = services()
    try:
        submission = submit_and_enqueue(
            session,
            redis=svc.redis,
            user=current_user,
            challenge=_challenge(slug),
            upload=form.file.data.stream,
            kind=form.kind.data,
            blobs=svc.blobs,
            settings=svc.settings,
            note=form.note.data or "",
        )
    except ServiceError as exc:
        session.rollback()
        return _refused(slug, translate(exc), exc.status)
    flash(_("Submission received; it is queued for evaluation."), "success")
    target = url_for("submissions.detail", submission_id=submission.id)
    if _wants_json():
        return jsonify({"ok": True, "id": submission.id, "redirect": target}), 201
    return redirect(target)


def _viewable(submission_id: int) -> Submission:
    """A submission the user may see; anything else is a 404, not a 403."""
    sub = db().get(Submission, submission_id)
    if sub is None:
        abort(404)
    allowed_or_404(Action.see_submission, sub)
    return sub


@bp.post("/submissions/<id:submission_id>/select")
@login_required
def select_submission(submission_id: int):
    return _set_selected(submission_id, True)


@bp.post("/submissions/<id:submission_id>/unselect")
@login_required
def unselect_submission(submission_id: int):
    return _set_selected(submission_id, False)


def _set_selected(submission_id: int, selected: bool):
    session = db()
    try:
        set_selected(session, user=current_user, submission_id=submission_id, selected=selected)
        session.commit()
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
    back = request.form.get("next", "")
    # Only a path of this site, never another site's address.
    if not (back.startswith("/") and not back.startswith(("//", "/\\"))):
        back = url_for("submissions.mine")
    return redirect(back)


@bp.post("/challenges/<slug>/leave")
@login_required
def leave_team(slug: str):
    session = db()
    try:
        team = teams.team_of(session, user=current_user, challenge=_challenge(slug))
    except ServiceError:
        abort(404)
    if team is None:
        abort(404)
    try:
        membership.leave_team(session, user=current_user, team=team)
        session.commit()
        flash(_("You left team %(name)s.", name=team.name), "success")
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
    return _back(slug)


@bp.get("/submissions")
@login_required
def mine():
    team_ids = select(Membership.team_id).where(Membership.user_id == current_user.id)
    rows = db().scalars(
        select(Submission)
        .where(Submission.team_id.in_(team_ids), Submission.rerun_of_id.is_(None))
        .order_by(Submission.id.desc())
    )
    return render_template("submissions.html", submissions=list(rows))


def _place(sub: Submission):
    svc = services()
    return queueing.place_in_queue(db(), sub, redis=svc.redis, queue_name=svc.settings.queue_name)


@bp.get("/submissions/<id:submission_id>")
@login_required
def detail(submission_id: int):
    sub = _viewable(submission_id)
    view = submission_json(sub, sight(db(), current_user, sub.challenge), _place(sub))
    return render_template(
        "submission.html",
        sub=sub,
        view=view,
        has_receipt=receipt_pages.has_receipt(sub),
        may_cancel=sub.status == "queued"
        and can(db(), current_user, Action.cancel_submission, sub),
        queue_text=queue_text(view),
        own_team=_own_team(sub),
    )


def _own_team(sub: Submission) -> bool:
    """Whether the viewer is in the submission's team: a judge or a sponsor sees "Team
    NAME", not "My team" (issue 11)."""
    if sub.team_id is None:
        return False
    query = select(Membership.id).where(
        Membership.team_id == sub.team_id, Membership.user_id == current_user.id
    )
    return db().scalar(query) is not None


@bp.get("/submissions/<id:submission_id>/status")
@login_required
def status(submission_id: int):
    """Polled by the page while the submission is not final."""
    sub = _viewable(submission_id)
    view = submission_json(sub, sight(db(), current_user, sub.challenge), _place(sub))
    view["queue_text"] = queue_text(view)
    return jsonify(view)


def queue_text(view: dict) -> str:
    """The queued submission's place in words; "" once it has left the queue."""
    if view.get("queue_position") is None:
        return ""
    ahead = view["queue_position"]
    place = (
        _("Next in the queue.")
        if ahead == 0
        else ngettext("%(num)d submission ahead of it.", "%(num)d submissions ahead of it.", ahead)
    )
    seconds = view.get("estimated_start_s")
    if seconds is None:
        return place + " " + _("No estimate of its start yet.")
    if seconds < 60:
        return place + " " + _("Estimated start: in under a minute.")
    return (
        place
        + " "
        + _("Estimated start: in about %(minutes)d min.", minutes=math.ceil(seconds / 60))
    )


@bp.post("/submissions/<id:submission_id>/cancel")
@login_required
def cancel(submission_id: int):
    _viewable(submission_id)  # someone else's: a 404
    session = db()
    svc = services()
    try:
        sub = queueing.cancel(session, user=current_user, submission_id=submission_id)
        session.commit()
        queueing.forget_job(svc.redis, sub, queue_name=svc.settings.queue_name)
        flash(
            _(
                "Submission %(id)s was cancelled; it does not count against your quota.",
                id=submission_id,
            ),
            "success",
        )
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
    return redirect(url_for("submissions.detail", submission_id=submission_id))
