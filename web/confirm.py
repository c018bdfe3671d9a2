"""Confirming an irreversible action (issue 15, friction 5): publish, close, a verdict.

The page's form posts as usual; without ``confirm=yes`` the route does nothing and
answers with a confirmation page that says what will happen, carrying the same form
fields plus ``confirm=yes`` (works without JavaScript). Only the pages ask: the API's
and the CLI's callers name what they do explicitly, so they act at once.
"""

from __future__ import annotations

from flask import render_template, request

SKIPPED = frozenset({"csrf_token", "confirm"})


def confirmed() -> bool:
    return request.form.get("confirm") == "yes"


def ask(*, title: str, consequences: list[str], button: str, back: str):
    """The confirmation page, re-posting this request's form to its own URL."""
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in SKIPPED]
    return render_template(
        "confirm.html",
        title=title,
        consequences=consequences,
        button=button,
        back=back,
        action=request.path,
        fields=fields,
    )
