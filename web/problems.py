"""A challenge bundle's problems (``challenges.problems``) in the reader's language: on a
page as HTML, the names between backticks as ``<code>``; in the API as plain text."""

from __future__ import annotations

from flask_babel import gettext
from markupsafe import Markup, escape

from challenges.problems import CODE, Problem, plain, render


def _translated(problem: str) -> tuple[str, str]:
    """(key, words) of a problem; a plain ``str`` one (no code yet) is shown as it is."""
    if isinstance(problem, Problem):
        params = {name: _param(value) for name, value in problem.params.items()}
        return problem.key, render(problem.code, params, _gettext)
    key, sep, words = problem.partition(": ")
    return (key, words) if sep and " " not in key else ("", problem)


def _gettext(template: str) -> str:
    return gettext(template) if template else template


def _param(value: object) -> object:
    # A backtick inside a user-given value would end its <code> early.
    return value.replace("`", "'") if isinstance(value, str) else value


def _html(words: str) -> Markup:
    """Escaped words with each `name` as <code>name</code>; a stray backtick is dropped."""
    parts = CODE.split(words)
    html = Markup("").join(
        Markup("<code>{}</code>").format(part) if i % 2 else escape(part.replace("`", ""))
        for i, part in enumerate(parts)
    )
    return Markup(html)


def words_html(problem: str) -> Markup:
    """``key: words`` for a list of problems, the key as code."""
    key, words = _translated(problem)
    if not key:
        return _html(words)
    return Markup("<code>{}</code>: ").format(key) + _html(words)


def message_html(problem: str) -> tuple[str, Markup]:
    """(key, words) for a problem shown next to the form field of its key."""
    key, words = _translated(problem)
    return key, _html(words)


def words_text(problem: str) -> str:
    """``key: words`` as plain text (the API), names in single quotes."""
    key, words = _translated(problem)
    return f"{key}: {plain(words)}" if key else plain(words)
