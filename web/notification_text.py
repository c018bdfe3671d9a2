"""The words of a notification, in one reader's language, for the site and for mail.

A notification stores its kind and parameters (``jiebang.notifications``); the words
are chosen here, when shown. The kind's templates are msgids of the web catalog. A
parameter is shown by its form: ``{"en": ..., "zh": ...}`` (a challenge title) in the
reader's language, ``{"code": ..., "params": ...}`` (a submission's outcome) the way
the submission page shows it (``evaluator.messages``), anything else as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.support import NullTranslations, Translations

import challenges.announcements  # noqa: F401  (registers the talk's kinds, for workers too)
from challenges import (
    proposal_notices,  # noqa: F401  (the proposal stage's kinds, likewise)
    registration,  # noqa: F401  (registration's kinds, likewise)
)
from evaluator import messages
from jiebang import organizations  # noqa: F401  (the organizations' kinds, likewise)
from jiebang.notifications import KINDS, N_, Notification

TRANSLATIONS = Path(__file__).parent / "translations"


@dataclass(frozen=True)
class Text:
    title: str
    body: str


@functools.cache
def catalog(language: str) -> NullTranslations:
    """The web's catalog for ``language`` (outside a request: the mail jobs)."""
    if language == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [language], domain="messages")


def gettext_for(language: str) -> Callable[[str], str]:
    return catalog(language).gettext


# Stored words (``{"word": value}``): the same msgids as ``web.i18n.WORDS``.
FAILURE_WORDS = {
    "timeout": N_("time limit exceeded"),
    "memory": N_("out of memory"),
    "crash": N_("crash"),
    "bad_output": N_("wrong output"),
    "infrastructure": N_("platform failure"),
    "scorer": N_("scoring program failure"),
}


def _param(value: object, language: str, translate: Callable[[str], str]) -> object:
    if isinstance(value, Mapping):
        if "word" in value:
            found = FAILURE_WORDS.get(str(value["word"]))
            return translate(found) if found else str(value["word"] or "—")
        if isinstance(value.get("code"), str):
            return messages.render(value["code"], value.get("params"), translate)
        if "en" in value:
            return value.get(language) or value["en"]
    if isinstance(value, float):
        return f"{value:.4g}"
    return value


class _Values(dict):
    def __missing__(self, name: str) -> str:
        return "?"


def _fill(template: str, values: dict, translate: Callable[[str], str]) -> str:
    for words in (translate(template), template):  # a translation that does not fit: English
        try:
            return words % values
        except (ValueError, TypeError, KeyError):
            continue
    return template


def render(
    kind: str, params: Mapping[str, object], language: str, translate: Callable[[str], str]
) -> Text:
    """``translate`` maps a msgid into ``language`` (Flask-Babel's ``gettext`` in a
    request, ``gettext_for(language)`` elsewhere)."""
    spec = KINDS.get(kind)
    values = _Values({k: _param(v, language, translate) for k, v in (params or {}).items()})
    if spec is None:  # a kind a newer version stored, read by an older one
        return Text(kind, "")
    return Text(_fill(spec.title, values, translate), _fill(spec.body, values, translate))


def render_note(note: Notification, language: str, translate=None) -> Text:
    return render(note.kind, note.params, language, translate or gettext_for(language))


# The words around a mail, extracted like every other msgid.
MAIL_WORDS = {
    "open": N_("Open on the site: %(url)s"),
    "why": N_(
        "You receive this because of your notification settings on Jiebang. "
        "Change them at %(settings)s."
    ),
    "unsubscribe": N_("Stop mail of this kind: %(url)s"),
    "digest_subject": N_("Jiebang: %(n)s notifications"),
    "digest_intro": N_("What happened since your last digest:"),
}
