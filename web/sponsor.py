"""Sponsors' pages: their challenges, the challenge form, a bundle upload, the dashboard,
dry runs."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from challenges import lifecycle
from challenges import service as challenges
from challenges.bundle import ChallengeBundleError, open_bundle
from challenges.models import Challenge
from challenges.policy import AccountAction, Action, can
from evaluator import dryrun, listing
from jiebang import accounts
from jiebang.accounts import Role
from jiebang.db import utcnow
from jiebang.errors import NotFound, ServiceError
from leaderboards.board import public_board
from web import stats
from web.challenge_form import make_form
from web.challenge_spec import place_problems, to_spec
from web.errors import translate
from web.ext import cached_board, db, services
from web.forms import SubmitForm
from web.org_pages import become_sponsor
from web.problems import words_html
from web.roles import allowed_or_404, role_required
from web.uploads import challenge_body, into_blobs, large_body, work_dir

bp = Blueprint("sponsor", __name__, url_prefix="/sponsor")


def _every_org() -> bool:
    """Whether this user sees every organization's challenges, not only their own's."""
    return can(db(), current_user, AccountAction.see_all_orgs)


def _mine():
    query = select(Challenge).order_by(Challenge.id.desc())
    if not _every_org():
        query = query.where(Challenge.sponsor_org_id == current_user.org_id)
    return list(db().scalars(query))


def _orgs():
    """Organizations this user may list challenges for (``Action.create_challenge``)."""
    query = select(accounts.Organization).where(accounts.Organization.approved)
    if not _every_org():
        query = query.where(accounts.Organization.id == current_user.org_id)
    return list(db().scalars(query.order_by(accounts.Organization.name)))


def _managed(slug: str) -> Challenge:
    try:
        item = challenges.get_challenge(db(), slug)
    except NotFound:
        abort(404)
    allowed_or_404(Action.manage_challenge, item)
    return item


@bp.get("")
@login_required
def index():
    """Sponsors' challenges; for anyone else signed in, how to become a sponsor."""
    if current_user.role not in (Role.sponsor, Role.admin):
        return become_sponsor()
    return render_template("sponsor.html", challenges=_mine(), problems=[], orgs=_orgs())


@bp.route("/challenges/new", methods=["GET", "POST"])
@large_body
@role_required(Role.sponsor, Role.admin)
def new():
    orgs = _orgs()
    form = make_form(orgs=orgs, editing=None)
    if not _every_org() and current_user.org_id is not None:
        form.sponsor.data = current_user.org.slug
    problems: list[str] = []
    if orgs and form.validate_on_submit():
        spec, files, where = to_spec(form, sponsor=form.sponsor.data, keep=None)
        session = db()
        try:
            item = challenges.create_from_form(
                session,
                spec=spec,
                description_md=form.description.data,
                description_md_zh=form.description_zh.data or "",
                files=files,
                blobs=services().blobs,
                actor=current_user,
            )
            session.commit()
            flash(
                _("Draft %(slug)s saved. Check it, then request a review.", slug=item.slug),
                "success",
            )
            return redirect(url_for("sponsor.dashboard", slug=item.slug))
        except ChallengeBundleError as exc:
            session.rollback()
            problems = place_problems(form, exc.problems, where)
        except ServiceError as exc:
            session.rollback()
            problems = place_problems(form, [f"{exc.field}: {translate(exc)}"], where)
    status = 400 if request.method == "POST" else 200
    page = render_template(
        "challenge_form.html", form=form, editing=None, orgs=orgs, problems=problems
    )
    return page, status


@bp.route("/challenges/<slug>/edit", methods=["GET", "POST"])
@large_body
@role_required(Role.sponsor, Role.admin)
def edit(slug: str):
    item = _managed(slug)
    try:
        challenges.check_editable(item)
    except ServiceError as exc:
        flash(translate(exc), "error")
        return redirect(url_for("sponsor.dashboard", slug=slug))
    form = make_form(orgs=[item.sponsor], editing=item)
    problems: list[str] = []
    if form.validate_on_submit():
        spec, files, where = to_spec(form, sponsor=item.sponsor.slug, keep=item)
        session = db()
        try:
            challenges.update_draft(
                session,
                challenge=item,
                spec=spec,
                description_md=form.description.data,
                description_md_zh=form.description_zh.data or "",
                files=files,
                blobs=services().blobs,
                actor=current_user,
            )
            session.commit()
            flash(_("Draft saved."), "success")
            return redirect(url_for("sponsor.dashboard", slug=slug))
        except ChallengeBundleError as exc:
            session.rollback()
            problems = place_problems(form, exc.problems, where)
        except ServiceError as exc:
            session.rollback()
            problems = place_problems(form, [f"{exc.field}: {translate(exc)}"], where)
    status = 400 if request.method == "POST" else 200
    page = render_template(
        "challenge_form.html", form=form, editing=item, orgs=[item.sponsor], problems=problems
    )
    return page, status


@bp.get("/challenges/<slug>")
@role_required(Role.sponsor, Role.admin)
def dashboard(slug: str):
    item = _managed(slug)
    session = db()
    numbers = stats.dashboard(session, item)
    can_dry_run = can(session, current_user, Action.dry_run, item)
    private = None
    if can(session, current_user, Action.see_private_board, item):
        private = cached_board(item, private=True, page=1, per_page=100).entries
    return render_template(
        "dashboard.html",
        challenge=item,
        numbers=numbers,
        daily=stats.daily_chart(numbers),
        distribution=stats.distribution_chart(numbers, item),
        board=public_board(session, item, limit=10),
        private_board=private,
        judges=lifecycle.judges_of(session, item),
        dry_runs=dryrun.dry_runs(session, item) if can_dry_run else None,
        dry_run_open=can_dry_run and item.status in dryrun.TAKES_DRY_RUNS,
        dry_run_form=SubmitForm(),
        scorer_failures=listing.scorer_failures(session, item) if item.scoring else None,
    )


@bp.post("/challenges/<slug>/dry-runs")
@into_blobs
@role_required(Role.sponsor, Role.admin)
def dry_run(slug: str):
    item = _managed(slug)
    back = url_for("sponsor.dashboard", slug=slug) + "#dry-run-h"
    session = db()
    try:
        # Closed, or one under way: said before the upload is read.
        dryrun.check_may_dry_run(session, user=current_user, challenge=item, now=utcnow())
    except ServiceError as exc:
        flash(translate(exc), "error")
        return redirect(back)
    form = SubmitForm()
    if not form.validate_on_submit():
        flash(_("Choose a file to upload."), "error")
        return redirect(back)
    svc = services()
    try:
        dryrun.submit_dry_run_and_enqueue(
            session,
            redis=svc.redis,
            user=current_user,
            challenge=item,
            upload=form.file.data.stream,
            kind=form.kind.data,
            blobs=svc.blobs,
            settings=svc.settings,
            note=form.note.data or "",
        )
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
        return redirect(back)
    flash(_("Dry run received; it is queued for evaluation."), "success")
    return redirect(back)


@bp.post("/challenges")
@challenge_body
@role_required(Role.sponsor, Role.admin)
def upload_bundle():
    upload = request.files.get("bundle")
    session = db()
    problems: list[str] = []
    # Whose organization may list what, and only once approved: the service says.
    if upload is None or not upload.filename:
        problems = [_("Choose a bundle: a zip with challenge.yaml and its data files.")]
    else:
        with tempfile.TemporaryDirectory(prefix="jiebang-upload-", dir=work_dir()) as tmp:
            path = Path(tmp) / "bundle.zip"
            upload.save(path)
            try:
                with open_bundle(path, workdir=Path(tmp)) as bundle:
                    item = challenges.create_from_bundle(
                        session, bundle=bundle, blobs=services().blobs, actor=current_user
                    )
                session.commit()
                flash(_("Draft %(slug)s created.", slug=item.slug), "success")
                return redirect(url_for("sponsor.index"))
            except ChallengeBundleError as exc:
                problems = [words_html(p) for p in exc.problems]
            except ServiceError as exc:
                session.rollback()
                problems = [translate(exc)]
    page = render_template("sponsor.html", challenges=_mine(), problems=problems, orgs=_orgs())
    return page, 400


@bp.post("/challenges/<slug>/review")
@role_required(Role.sponsor, Role.admin)
def request_review(slug: str):
    session = db()
    item = _managed(slug)
    try:
        lifecycle.request_review(session, item, actor=current_user)
        session.commit()
        flash(_("Sent for review. An administrator will publish it."), "success")
    except ServiceError as exc:
        session.rollback()
        flash(translate(exc), "error")
    return redirect(url_for("sponsor.dashboard", slug=slug))
