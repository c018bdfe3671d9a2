"""Public pages: the challenges by status, search and scenario; the hall of winners."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from challenges import service as challenges
from challenges.models import Status
from challenges.scenarios import catalog
from jiebang.errors import ServiceError
from leaderboards.decision import hall_of_winners
from web.errors import api_error, api_service_error, translate
from web.ext import db
from web.i18n import lang
from web.units import filesize

bp = Blueprint("pages", __name__)


def _split(items):
    """Open challenges first (soonest deadline first), then the closed and decided."""
    current = [c for c in items if c.effective_status_now() == Status.open]
    current.sort(key=lambda c: c.closes_at)
    past = [c for c in items if c.effective_status_now() != Status.open]
    return current, past


def _sectors(slug: str | None) -> tuple[list[str] | None, object]:
    """The sector slugs a scenario filter means: one sector, or every sector of a group."""
    if not slug:
        return None, None
    found = catalog().group(slug)
    if found is not None:
        return [s.slug for s in found.sectors], found
    found = catalog().sector(slug)
    return ([slug], found) if found is not None else ([], None)


@bp.get("/")
def index():
    search = (request.args.get("q") or "").strip()
    scenario = request.args.get("scenario") or None
    sectors, _found = _sectors(scenario)
    items = challenges.list_public(db(), sectors=sectors, search=search or None)
    current, past = _split(items)
    return render_template(
        "index.html",
        current=current,
        past=past,
        search=search,
        scenario=scenario,
        filtered=bool(search or scenario),
        counts=_counts(),
    )


def _counts() -> Counter:
    """Published challenges per sector and per group."""
    counts: Counter = Counter()
    for item in challenges.list_public(db()):
        counts[item.scenario] += 1
        sector = catalog().sector(item.scenario)
        if sector is not None:
            counts[sector.group] += 1
    return counts


@bp.get("/scenarios")
def scenarios():
    return render_template("scenarios.html", counts=_counts())


@bp.get("/scenarios/<slug>")
def scenario(slug: str):
    """A page per scenario group and per sector of the catalog."""
    sectors, found = _sectors(slug)
    if found is None:
        abort(404)
    group = found if catalog().group(slug) is not None else catalog().group(found.group)
    current, past = _split(challenges.list_public(db(), sectors=sectors))
    return render_template(
        "scenario.html",
        found=found,
        group=group,
        is_group=found is group,
        current=current,
        past=past,
        counts=_counts(),
        title=found.name(lang()),
    )


@bp.get("/winners")
def winners():
    return render_template("winners.html", awards=hall_of_winners(db()))


@bp.app_errorhandler(404)
def not_found(_exc):
    if request.path.startswith("/api/"):
        return api_error("not_found", _("Nothing is at this address."), 404)
    return render_template("error.html", message=_("Page not found.")), 404


@bp.app_errorhandler(CSRFError)
def csrf_failed(_exc):
    message = _(
        "This form has expired or was not sent by this site. Reload the page and try again."
    )
    if _wants_json():
        return {"ok": False, "error": message}, 400
    return render_template("error.html", message=message), 400


@bp.app_errorhandler(ServiceError)
def service_error(exc: ServiceError):
    """One a view did not catch, e.g. raised while the request's form was read."""
    if request.path.startswith("/api/"):
        return api_service_error(exc)
    message = translate(exc)
    if _wants_json():
        return {"ok": False, "error": message}, exc.status
    return render_template("error.html", message=message), exc.status


@bp.app_errorhandler(413)
def too_large(_exc):
    limit = request.max_content_length or 0
    message = _(
        "The request is larger than this address accepts (at most %(size)s).",
        size=filesize(limit),
    )
    if request.path.startswith("/api/"):
        return api_error("too_large", message, 413)
    if _wants_json():
        return {"ok": False, "error": message}, 413
    return render_template("error.html", message=message), 413


@bp.app_errorhandler(429)
def too_many(exc):
    """A rate limit; its own message (see ``web.ext``) says what to wait for."""
    message = exc.description or _("Too many requests. Wait a minute, then try again.")
    if request.path.startswith("/api/"):
        return api_error("rate_limited", message, 429)
    if _wants_json():
        return {"ok": False, "error": message}, 429
    return render_template("error.html", message=message), 429


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.get("/healthz")
def healthz():
    return {"ok": True}


@bp.get("/challenges")
def challenges_redirect():
    return redirect(url_for("pages.index"))
