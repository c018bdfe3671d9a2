"""A challenge's talk: announcements, questions and answers, and its amendments.

The pages call the services of ``challenges.announcements``, ``challenges.questions``
and ``challenges.corrections``; who may do what is asked of ``challenges.policy``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import BooleanField, DateTimeLocalField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from challenges import announcements, corrections, questions
from challenges.models import Challenge, Status
from challenges.policy import Action, can
from jiebang.errors import NotFound, ServiceError
from web.challenge_pages import visible
from web.errors import translate
from web.ext import db
from web.forms import Form
from web.roles import allowed_or_404

bp = Blueprint("talk", __name__, url_prefix="/challenges/<slug>")


class AnnouncementForm(Form):
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=200)])
    title_zh = StringField(_l("Title (Chinese, optional)"), validators=[Length(max=200)])
    body_en = TextAreaField(
        _l("Text (English)"), validators=[DataRequired(), Length(max=announcements.BODY_MAX)]
    )
    body_zh = TextAreaField(
        _l("Text (Chinese, optional)"), validators=[Length(max=announcements.BODY_MAX)]
    )
    email = BooleanField(_l("Notify the members of every team (by email where they want it)"))


class QuestionForm(Form):
    text = TextAreaField(
        _l("Your question"),
        validators=[DataRequired(), Length(max=questions.TEXT_MAX)],
        description=_l(
            "Only you, your team and the sponsor read it until the sponsor answers it publicly."
        ),
    )


class AnswerForm(Form):
    answer = TextAreaField(
        _l("Answer"), validators=[DataRequired(), Length(max=questions.ANSWER_MAX)]
    )
    visibility = RadioField(
        _l("Who reads it"),
        choices=[
            SelectChoice("public", _l("Everyone (the question and the answer become public)")),
            SelectChoice("private", _l("Only the asker and the asker's team")),
        ],
        default="public",
    )


class AmendForm(Form):
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=200)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    summary_en = TextAreaField(_l("Summary (English)"), validators=[DataRequired()])
    summary_zh = TextAreaField(_l("Summary (Chinese)"), validators=[DataRequired()])
    description_md = TextAreaField(_l("Description (English, Markdown)"))
    description_md_zh = TextAreaField(_l("Description (Chinese, Markdown)"))
    terms_en = TextAreaField(_l("Terms (English)"))
    terms_zh = TextAreaField(_l("Terms (Chinese)"))
    closes_at = DateTimeLocalField(
        _l("Deadline"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("In the challenge's time zone. It can only move later."),
    )
    reason = TextAreaField(
        _l("Reason for the amendment"),
        validators=[DataRequired(), Length(max=corrections.REASON_MAX)],
        description=_l("Shown in the public history of changes and in the announcement."),
    )


def _viewer():
    return current_user if current_user.is_authenticated else None


def _render(template: str, item: Challenge, tab: str, **context):
    from challenges.teams import team_of

    team = team_of(db(), user=current_user, challenge=item) if _viewer() else None
    return render_template(template, challenge=item, tab=tab, team=team, **context)


@bp.route("/announcements", methods=["GET", "POST"])
def announcement_list(slug: str):
    item = visible(slug)
    session = db()
    may_post = can(session, _viewer(), Action.announce, item)
    form = AnnouncementForm() if may_post else None
    if request.method == "POST":
        if not may_post:
            abort(404)
        if form.validate_on_submit():
            try:
                announcements.post(
                    session,
                    challenge=item,
                    actor=current_user,
                    title_en=form.title_en.data,
                    title_zh=form.title_zh.data,
                    body_en=form.body_en.data,
                    body_zh=form.body_zh.data,
                    email=form.email.data,
                )
                session.commit()
                flash(_("Announcement published."), "success")
                return redirect(url_for("talk.announcement_list", slug=slug))
            except ServiceError as exc:
                session.rollback()
                flash(translate(exc), "error")
    page = _render(
        "announcements.html",
        item,
        "announcements",
        announcements=announcements.listing(session, item),
        form=form,
    )
    return page, 400 if request.method == "POST" else 200


@bp.get("/questions")
def question_list(slug: str):
    item = visible(slug)
    return _questions_page(item, QuestionForm())


def _questions_page(item: Challenge, form, status: int = 200):
    session = db()
    viewer = _viewer()
    term = request.args.get("q", "")
    try:
        found = questions.listing(session, challenge=item, viewer=viewer, q=term)
    except ServiceError as exc:
        flash(translate(exc), "error")
        found = []
    page = _render(
        "questions.html",
        item,
        "questions",
        questions=found,
        q=term,
        form=form if can(session, viewer, Action.ask_question, item) else None,
        answering=can(session, viewer, Action.answer_question, item),
        answer_form=AnswerForm(formdata=None),
    )
    return page, status


@bp.post("/questions")
@login_required
def ask(slug: str):
    item = visible(slug)
    session = db()
    form = QuestionForm()
    allowed_or_404(Action.ask_question, item)
    if form.validate_on_submit():
        try:
            asked = questions.ask(session, challenge=item, user=current_user, text=form.text.data)
            session.commit()
            flash(_("Question sent. You will be notified when it is answered."), "success")
            return redirect(url_for("talk.question_list", slug=slug) + f"#question-{asked.id}")
        except ServiceError as exc:
            session.rollback()
            form.text.errors = [translate(exc)]
    return _questions_page(item, form, status=400)


def _question(item: Challenge, question_id: int):
    allowed_or_404(Action.answer_question, item)
    try:
        return questions.get_question(
            db(), challenge=item, question_id=question_id, viewer=current_user
        )
    except NotFound:
        abort(404)


@bp.post("/questions/<id:question_id>/answer")
@login_required
def answer(slug: str, question_id: int):
    item = visible(slug)
    question = _question(item, question_id)
    form = AnswerForm()
    back = url_for("talk.question_list", slug=slug) + f"#question-{question.id}"
    if not form.validate_on_submit():
        flash(_("Write an answer, then choose who reads it."), "error")
        return redirect(back)
    session = db()
    try:
        questions.answer(
            session,
            question=question,
            actor=current_user,
            text=form.answer.data,
            public=form.visibility.data == "public",
        )
        session.commit()
        flash(_("Answer saved; the asker is notified."), "success")
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
    return redirect(back)


@bp.post("/questions/<id:question_id>/hide")
@login_required
def hide(slug: str, question_id: int):
    item = visible(slug)
    question = _question(item, question_id)
    session = db()
    questions.hide(session, question=question, actor=current_user)
    session.commit()
    flash(_("Question hidden from everyone but the sponsor and administrators."), "success")
    return redirect(url_for("talk.question_list", slug=slug))


@bp.get("/changes")
def changes(slug: str):
    item = visible(slug)
    return _render(
        "changes.html",
        item,
        "changes",
        revisions=corrections.revisions(db(), item),
        may_amend=can(db(), _viewer(), Action.amend_challenge, item)
        and item.effective_status_now() == Status.open.value,
        field_name=field_name,
        as_time=dt.datetime.fromisoformat,
    )


def field_name(field: str) -> str:
    """A field of an amendment, in the reader's language."""
    names = {
        "title_en": _("Title (English)"),
        "title_zh": _("Title (Chinese)"),
        "summary_en": _("Summary (English)"),
        "summary_zh": _("Summary (Chinese)"),
        "description_md": _("Description (English, Markdown)"),
        "description_md_zh": _("Description (Chinese, Markdown)"),
        "terms_en": _("Terms (English)"),
        "terms_zh": _("Terms (Chinese)"),
        "closes_at": _("Deadline"),
    }
    return names.get(field, field)


@bp.route("/amend", methods=["GET", "POST"])
@login_required
def amend(slug: str):
    item = visible(slug)
    allowed_or_404(Action.amend_challenge, item)
    if item.effective_status_now() != Status.open.value:  # the service says so too
        flash(
            _("Only an open challenge can be amended, before its deadline; this one is not open."),
            "error",
        )
        return redirect(url_for("talk.changes", slug=slug))
    zone = zoneinfo.ZoneInfo(item.timezone)
    fields = corrections.amendable_fields(item)
    form = AmendForm(data=_current(item, zone, fields))
    if not hasattr(item, "terms_en"):
        del form.terms_en, form.terms_zh
    if form.validate_on_submit():
        wanted = {f: getattr(form, f).data or "" for f in fields if f != corrections.DEADLINE}
        unchanged = _current(item, zone, fields)["closes_at"].replace(second=0, microsecond=0)
        if form.closes_at.data is not None and form.closes_at.data != unchanged:
            wanted["closes_at"] = form.closes_at.data.replace(tzinfo=zone).isoformat()
        session = db()
        try:
            revision = corrections.amend(
                session, challenge=item, actor=current_user, changes=wanted, reason=form.reason.data
            )
            session.commit()
            flash(
                _("Amendment %(number)s published and announced.", number=revision.number),
                "success",
            )
            return redirect(url_for("talk.changes", slug=slug))
        except ServiceError as exc:
            session.rollback()
            target = getattr(form, exc.field, None) or form.reason
            target.errors = [*target.errors, translate(exc)]
    status = 400 if request.method == "POST" else 200
    return _render("amend.html", item, "changes", form=form), status


def _current(item: Challenge, zone, fields) -> dict:
    data = {f: getattr(item, f) for f in fields if f != corrections.DEADLINE}
    data["closes_at"] = item.closes_at.astimezone(zone).replace(tzinfo=None)
    return data
