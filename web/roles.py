"""Access for pages: a coarse gate by role, and object checks through the policy."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from challenges import service as challenges
from challenges.models import Challenge
from challenges.policy import Action, can
from jiebang.accounts import Role
from jiebang.errors import NotFound
from web.ext import db


def role_required(*roles: Role):
    """Logged in with one of ``roles``; others get a 404 so pages are not probed.

    Only a gate: what the user may do with an object is asked of ``challenges.policy``
    (``allowed_or_404`` here, ``policy.require`` in the services)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def allowed_or_404(action: Action, target: object = None) -> None:
    """Pages answer every refusal with a 404, so they cannot be probed."""
    if not can(db(), current_user, action, target):
        abort(404)


def published_or_404(slug: str, *, asking: str) -> Challenge:
    """A published challenge whose ``asking`` attribute is set (its registration, its
    proposal stage); a 404 otherwise, the same for one that does not exist."""
    try:
        item = challenges.get_challenge(db(), slug, public_only=True)
    except NotFound:
        abort(404)
    if not getattr(item, asking):
        abort(404)
    return item
