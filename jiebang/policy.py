"""Who may administer accounts and organizations: the rules of the lowest layer.

``challenges.policy`` is the one place to read who may do what. The services of this
layer (``jiebang.accounts.set_role``, ``jiebang.orgs``) cannot import it (it sits a
layer above), so the rules they need live here, in the same shape, and
``challenges.policy`` takes them into its table: ``challenges.policy.can(session,
user, AccountAction.manage_users)`` answers them as it answers its own actions.
Services of this layer ask ``require`` below; everyone else asks ``challenges.policy``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from jiebang.accounts import Role, User
from jiebang.db import utcnow
from jiebang.errors import Forbidden, ServiceError


class AccountAction(enum.StrEnum):
    manage_users = "manage_users"  # a user's role, organization, whether active
    approve_org = "approve_org"  # which makes its members sponsors
    see_all_orgs = "see_all_orgs"  # every organization's challenges, not only one's own
    register_org = "register_org"  # an applicant organization, as its first member
    manage_org = "manage_org"  # target: the organization; edit it, invite, remove, promote
    verify_org = "verify_org"  # an administrator's real-name check of a legal identity


# (session, user or None, target, now) -> the error to raise, or None to allow.
Rule = Callable[[Session, User | None, Any, dt.datetime], ServiceError | None]


def signed_in(user: Any) -> User | None:
    """Flask-Login's anonymous user and ``None`` both mean nobody."""
    return user if user is not None and user.is_authenticated else None


def is_admin(user: User | None) -> bool:
    return user is not None and user.role == Role.admin


def admins(refused: Callable[[], ServiceError]) -> Rule:
    """A rule that lets administrators through and refuses everyone else with a fresh
    ``refused()``. The error is written as a call (``lambda: Forbidden(field, "...")``)
    so that the catalog's extraction finds its words."""

    def rule(session, user, target, now):
        return None if is_admin(user) else refused()

    return rule


def _administrators() -> ServiceError:
    return Forbidden("role", "Only an administrator may do this.")


def _register_org(session, user, target, now):
    if user is None:
        return Forbidden("user", "Log in to register an organization.")
    if user.org_id is not None:
        return Forbidden("org", "You belong to an organization already; one is the most.")
    return None


def _manage_org(session, user, org, now):
    """The organization's own administrators, and the platform's."""
    if is_admin(user):
        return None
    if user is not None and org is not None and user.org_id == org.id and user.org_admin:
        return None
    return Forbidden("org", "Only an administrator of this organization may do this.")


ACCOUNT_RULES: dict[AccountAction, Rule] = {
    AccountAction.register_org: _register_org,
    AccountAction.manage_org: _manage_org,
    AccountAction.verify_org: admins(_administrators),
    AccountAction.manage_users: admins(_administrators),
    AccountAction.approve_org: admins(_administrators),
    AccountAction.see_all_orgs: admins(_administrators),
}


def require(session: Session, user: User | None, action: AccountAction, target: Any = None) -> None:
    """Raise the refusal unless ``user`` may do ``action``; for this layer's services."""
    refused = ACCOUNT_RULES[action](session, signed_in(user), target, utcnow())
    if refused is not None:
        raise refused
