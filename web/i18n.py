"""Language choice: the user's switch (cookie), else the browser's preference."""

from __future__ import annotations

from flask import request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

LANGUAGES = {"en": "English", "zh": "中文"}


def select_locale() -> str:
    chosen = request.cookies.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default="en")


def lang() -> str:
    return str(get_locale() or "en")


# Words that templates and the page's script translate from data (statuses, failure
# kinds, roles), keyed by the stored value; the literal calls let Babel extract them.
WORDS = {
    "draft": _l("draft"),
    "in_review": _l("in review"),
    "open": _l("open"),
    "closed": _l("closed"),
    "judging": _l("judging"),
    "awarded": _l("awarded"),
    "unclaimed": _l("unclaimed"),
    "queued": _l("queued"),
    "running": _l("running"),
    "scoring": _l("scoring"),
    "scored": _l("scored"),
    "failed": _l("failed"),
    "rejected": _l("rejected"),
    "cancelled": _l("cancelled"),
    "timeout": _l("time limit exceeded"),
    "memory": _l("out of memory"),
    "crash": _l("crash"),
    "bad_output": _l("wrong output"),
    "infrastructure": _l("platform failure"),
    "scorer": _l("scoring program failure"),
    "admin": _l("admin"),
    "sponsor": _l("sponsor"),
    "judge": _l("judge"),
    "participant": _l("participant"),
}


def word(value: str | None) -> str:
    """A stored status, failure kind or role in the reader's language."""
    if not value:
        return "—"
    found = WORDS.get(value)
    return str(found) if found is not None else value
