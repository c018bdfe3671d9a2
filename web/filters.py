"""Template helpers: dates in the challenge's time zone, markdown, languages."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo

import markdown as md
import nh3
from flask import Flask, g, get_flashed_messages
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from jinja2 import pass_context
from markupsafe import Markup, escape
from wtforms import Form as WTForm

from challenges.metrics import METRICS
from challenges.models import Status
from challenges.scenarios import catalog
from challenges.schema import DEFAULT_TIMEZONE
from evaluator.models import State
from jiebang.db import utcnow
from web.errors import translate_message
from web.i18n import LANGUAGES, WORDS, lang, word
from web.units import duration, filesize, js_units, megabytes

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}


def render_markdown(text: str) -> Markup:
    html = md.markdown(text or "", extensions=["tables", "fenced_code"])
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS, link_rel="noopener noreferrer nofollow"))


def local_time(value: dt.datetime | None, zone: str = DEFAULT_TIMEZONE) -> str:
    if value is None:
        return ""
    # A numeric pattern reads the same in every language: no locale lookup needed,
    # which on a board of 100 rows was most of the page's time.
    return f"{value.astimezone(_zone(zone)):%Y-%m-%d %H:%M} ({zone})"


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def money(value) -> str:
    return f"{value:,.0f}"


def time_left(until: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long until ``until``, in words, to its two largest units (the page's script
    then counts down to the second)."""
    if until is None:
        return ""
    seconds = max(int((until - (now or utcnow())).total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        parts = [ngettext("%(num)d day", "%(num)d days", days)]
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours))
    elif hours:
        parts = [ngettext("%(num)d hour", "%(num)d hours", hours)]
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", minutes))
    else:
        parts = [ngettext("%(num)d minute", "%(num)d minutes", minutes)]
    return " ".join(parts)


def metric_name(name: str) -> str:
    metric = METRICS.get(name)
    if metric is None:
        return name
    return metric.title_zh if lang() == "zh" else metric.title_en


def metric_title(challenge, name: str) -> str:
    """A metric's title as ``challenge`` reports it: built-in, or declared by its scoring
    program (in the reader's language); the bare name if it reports no such metric."""
    for declared in challenge.metrics:
        if declared.name == name:
            return declared.title(lang())
    return name


def target_text(target: dict, challenge=None) -> str:
    """One target indicator in words (``challenge`` names its declared metrics)."""
    if "metric" in target:
        sign = "≥" if "at_least" in target else "≤"
        bound = target.get("at_least", target.get("at_most"))
        name = target["metric"]
        title = metric_title(challenge, name) if challenge is not None else metric_name(name)
        return f"{title} ({name}) {sign} {bound:g}"
    if "max_runtime_s" in target:
        return _("run time ≤ %(time)s", time=duration(target["max_runtime_s"], exact=True))
    return _("peak memory ≤ %(memory)s", memory=megabytes(target["max_memory_mb"]))


def js_words() -> dict:
    """Words the page's script shows (live statuses, the countdown, upload errors)."""
    return _js_words(str(get_locale()))


@functools.lru_cache(maxsize=16)
def _js_words(locale: str) -> dict:
    """The words in ``locale``, the request's (the catalogs do not change while running)."""
    words = {key: str(word) for key, word in WORDS.items()}
    words.update(
        day=_("day"),
        days=_("days"),
        closed=_("closed"),
        uploading=_("Uploading… %(pct)s%%", pct="{pct}"),
        processing=_("Upload complete; checking the file…"),
        network=_("The upload failed: the connection was lost. Check your network and try again."),
        too_large=_(
            "The file is too large for this kind of submission (at most %(mb)s MB).", mb="{mb}"
        ),
        server=_("The upload failed (HTTP %(status)s). Try again in a moment.", status="{status}"),
        choose=_("Choose a file to upload."),
        live_error=_("Lost contact with the server; retrying…"),
    )
    words.update(js_units())
    return words


# Runs of Chinese (CJK ideographs, their punctuation, full-width forms), with the spaces
# inside a run, so "Sharp Eyes 慧眼" tags only 慧眼.
_HAN = re.compile(
    r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+(?:\s+[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+)*"
)


def tagged(text) -> Markup:
    """User-entered text (a team's, person's or organization's name) with its Chinese
    marked lang="zh-CN" on an English page, so a screen reader reads it with a Chinese
    voice (WCAG 3.1.2); on a Chinese page it is the page's language already."""
    safe = str(escape(text if text is not None else ""))
    if lang() == "zh":
        return Markup(safe)
    return Markup(_HAN.sub(lambda m: f'<span lang="zh-CN">{m.group(0)}</span>', safe))


@pass_context
def form_failed(context) -> bool:
    """Whether the page answers a form with a mistake (a field's error or an error
    message): its title then begins with "Error:", the first thing a screen reader says."""
    if any(isinstance(v, WTForm) and v.errors for v in context.values()):
        return True
    return any(category == "error" for category, _ in get_flashed_messages(with_categories=True))


def first_error() -> bool:
    """True for the first field with an error a page draws (it takes the focus), then False."""
    if g.get("jb_focused"):
        return False
    g.jb_focused = True
    return True


def told(sub) -> str:
    """What a submission tells its team, in the reader's language."""
    return translate_message(sub.message_code, sub.message_params)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["score"] = score
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["time_left"] = time_left
    app.jinja_env.filters["metric_name"] = metric_name
    app.jinja_env.globals["metric_title"] = metric_title
    app.jinja_env.filters["metric_of"] = lambda name, challenge: metric_title(challenge, name)
    app.jinja_env.filters["target_text"] = target_text
    app.jinja_env.filters["tagged"] = tagged
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["megabytes"] = megabytes
    app.jinja_env.filters["filesize"] = filesize
    app.jinja_env.globals.update(
        utcnow=utcnow,
        lang=lang,
        LANGUAGES=LANGUAGES,
        catalog=catalog,
        js_words=js_words,
        word=word,
        told=told,
        form_failed=form_failed,
        first_error=first_error,
        Status=Status,
        State=State,
    )
