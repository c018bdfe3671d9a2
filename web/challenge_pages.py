"""A challenge's pages, one per tab: overview, data, rules, leaderboard, and My team."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, send_file
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from challenges import announcements, eligibility, questions, team_rules
from challenges import service as challenges
from challenges.models import PUBLIC_ROLES, Challenge, FileRole
from challenges.policy import Action, can
from challenges.teams import team_of
from evaluator.intake import used_today
from evaluator.models import Submission
from jiebang.db import utcnow
from jiebang.errors import NotFound
from leaderboards.board import public_board
from leaderboards.cache import kept_text
from leaderboards.decision import award_of
from web import board_csv, stats
from web.errors import translate
from web.ext import cached_board, db, services
from web.forms import JoinForm, SubmitForm, TeamForm
from web.roles import allowed_or_404

bp = Blueprint("challenge", __name__, url_prefix="/challenges/<slug>")


def visible(slug: str) -> Challenge:
    """Published challenges for all; drafts and those in review only for their sponsor's
    members and administrators, as a preview."""
    try:
        item = challenges.get_challenge(db(), slug)
    except NotFound:
        abort(404)
    allowed_or_404(Action.view_challenge, item)
    return item


def _page(template: str, item: Challenge, tab: str, **context):
    team = None
    if current_user.is_authenticated:
        team = team_of(db(), user=current_user, challenge=item)
    return render_template(template, challenge=item, tab=tab, team=team, **context)


@bp.get("")
def overview(slug: str):
    item = visible(slug)
    return _page(
        "challenge.html",
        item,
        "overview",
        board=public_board(db(), item, limit=5),
        award=award_of(db(), item),
        announcements=announcements.listing(db(), item, limit=3),
        answered=questions.listing(db(), challenge=item, viewer=None, limit=5),
    )


def _may_download(item: Challenge) -> bool:
    """Where the challenge asks for registration, only approved teams (on the current
    terms), its managers and judges download training data and sample inputs."""
    viewer = current_user if current_user.is_authenticated else None
    return eligibility.may_download(db(), challenge=item, user=viewer, now=utcnow())


@bp.get("/data")
def data(slug: str):
    item = visible(slug)
    return _page(
        "challenge_data.html",
        item,
        "data",
        train_files=item.files_with(FileRole.train),
        sample_files=item.files_with(FileRole.sample_inputs)
        + item.files_with(FileRole.sample_labels),
        extra_files=item.files_with(FileRole.extra_input),
        inputs=item.file_with(FileRole.test_inputs),
        sample_submission=item.file_with(FileRole.sample_submission),
        download_name=_download_name,
        may_download=_may_download(item),
    )


@bp.get("/data/<name>")
def download(slug: str, name: str):
    """Only the public files (training data, the sample and its labels) are ever served;
    test inputs and labels never are. A folder (stored as a plain tar,
    ``challenges.folders``) is served as ``<name>.tar``."""
    item = visible(slug)
    if not _may_download(item):
        abort(403)
    public = [f for f in item.files if f.role in PUBLIC_ROLES]
    match = next((f for f in public if _download_name(f.name) == name), None)
    if match is None:
        abort(404)
    path = services().blobs.path(match.sha256)
    if match.is_folder:
        mimetype = "application/x-tar"
    else:
        mimetype = "text/csv" if name.endswith(".csv") else "application/octet-stream"
    return send_file(path, as_attachment=True, download_name=name, mimetype=mimetype)


def _download_name(stored: str) -> str:
    """A train file's name in its download link: a folder ``train/`` is ``train.tar``."""
    return stored.rstrip("/") + ".tar" if stored.endswith("/") else stored


@bp.get("/rules")
def rules(slug: str):
    item = visible(slug)
    return _page("challenge_rules.html", item, "rules", who_may_apply=_who_may_apply(item))


def _who_may_apply(item: Challenge) -> dict | None:
    """The registration rules a team reads before it forms (None: anyone, no registration)."""
    if not item.registration:
        return None
    rules = item.applicants or {}
    return {
        "who": rules.get("who", "individuals"),
        "verified": rules.get("verified", False),
        "max_partners": rules.get("max_partners", 4),
        "per_organization": rules.get("per_organization"),
        "bar_round_winners": rules.get("bar_round_winners", False),
        "round": item.round_tag,
        "mode": item.registration.get("mode"),
        "closes_at": team_rules.registration_closes_at(item),
        "freeze_at": team_rules.teams_freeze_at(item),
    }


BOARD_PAGE = 100


@bp.get("/leaderboard")
def leaderboard(slug: str):
    """Both boards a page (100 teams) at a time, from the board cache."""
    item = visible(slug)
    viewer = current_user if current_user.is_authenticated else None
    page = request.args.get("page", 1, type=int)
    if page < 1:
        abort(404)
    public = cached_board(item, private=False, page=page, per_page=BOARD_PAGE)
    private = None
    if can(db(), viewer, Action.see_private_board, item):
        private = cached_board(item, private=True, page=page, per_page=BOARD_PAGE)
    pages = max(public.pages, private.pages if private else 1)
    if page > pages:
        abort(404)
    team = team_of(db(), user=current_user, challenge=item) if viewer else None
    return render_template(
        "leaderboard.html",
        challenge=item,
        tab="leaderboard",
        team=team,
        board_html=_board_html(item, public, team, private=False),
        private_html=_board_html(item, private, team, private=True) if private else None,
        page=page,
        pages=pages,
        award=award_of(db(), item),
    )


@bp.get("/leaderboard.csv")
def leaderboard_csv(slug: str):
    """The board the viewer may see as CSV (web.board_csv): the private one for those
    allowed (after close), else the public one; ``?board=`` picks."""
    item = visible(slug)
    viewer = current_user if current_user.is_authenticated else None
    may_private = can(db(), viewer, Action.see_private_board, item)
    board = request.args.get("board", "private" if may_private else "public")
    if board not in ("public", "private") or (board == "private" and not may_private):
        abort(404)
    return board_csv.download(item, private=board == "private")


def _board_html(item: Challenge, page, team, *, private: bool) -> Markup:
    """A board's table. Without a team of the viewer's to highlight, it reads the same
    for everyone in this language: it is then kept beside the cached board page."""

    def make() -> str:
        context = {"challenge": item, "board": page.entries, "private": private, "team": team}
        return render_template("_board.html", **context)

    if team is not None:
        return Markup(make())
    # What else the table shows: the metrics' names (the dataset hash covers a scoring
    # program's), dates in the challenge's time zone.
    variant = f"html-{get_locale()}-{item.metric}-{item.dataset_hash[:16]}-{item.timezone}"
    return Markup(kept_text(services().cache, page, variant, make))


def _submit_refusal(session, item: Challenge, team) -> str | None:
    refused = eligibility.submit_refusal(session, challenge=item, team=team, now=utcnow())
    return translate(refused) if refused else None


@bp.get("/team")
@login_required
def team(slug: str):
    """My team: members, join code, the upload form, our submissions and our progress."""
    item = visible(slug)
    session = db()
    mine = team_of(session, user=current_user, challenge=item)
    context = {"team_form": TeamForm(), "join_form": JoinForm()}
    if mine is not None:
        subs = session.scalars(
            select(Submission)
            .where(Submission.team_id == mine.id, Submission.rerun_of_id.is_(None))
            .order_by(Submission.id.desc())
        )
        context.update(
            registration=eligibility.registration_of(session, mine.id),
            # Why the team may not submit now (registration, terms, shortlist), said before
            # an upload rather than after it; intake checks it again.
            submit_refusal=_submit_refusal(session, item, mine),
            submissions=list(subs),
            submit_form=SubmitForm(),
            members=sorted(mine.memberships, key=lambda m: m.joined_at),
            used=used_today(session, team_id=mine.id, challenge=item, now=utcnow()),
            chart=stats.progress_chart(stats.history(session, item, mine.id), item),
            # What the upload form says and checks, not the settings (secret key and all).
            limits={
                "max_image_bytes": services().settings.max_image_bytes,
                "max_bundle_bytes": services().settings.max_bundle_bytes,
            },
        )
    return _page("team.html", item, "team", **context)
