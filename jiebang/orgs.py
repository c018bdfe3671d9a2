"""Organizations and users as administrators manage them.

A signed-in user asks to register an organization; it waits unapproved, with the
user as its first member, until an administrator approves it, which makes its
members sponsors. Administrators also move users between organizations, change
their roles and deactivate accounts; who may is ruled in ``jiebang.policy``.
Services take a session and keyword arguments; the caller commits.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiebang import audit
from jiebang.accounts import Organization, Role, User, create_org, end_sessions, parse_role
from jiebang.errors import Conflict, Invalid
from jiebang.policy import AccountAction, require


def _keep_an_admin(session: Session) -> None:
    """Refuse to take away the last active administrator (nobody could undo it)."""
    admins = session.scalar(select(func.count()).where(User.role == Role.admin.value, User.active))
    if admins <= 1:
        raise Conflict("role", "Keep at least one administrator.")


def request_org(session: Session, *, user: User, slug: str, name: str) -> Organization:
    if user.org_id is not None:
        raise Conflict("slug", "You belong to an organization already.")
    org = create_org(session, slug=slug, name=name, approved=False)
    user.org_id = org.id
    audit.record(session, "org.requested", actor_id=user.id, org=org.id, slug=org.slug)
    return org


def approve_org(session: Session, *, org: Organization, actor: User) -> Organization:
    """Approve; its participants become sponsors (administrators and judges stay)."""
    require(session, actor, AccountAction.approve_org)
    if org.approved:
        raise Invalid("org", "This organization is approved already.")
    org.approved = True
    members = session.scalars(select(User).where(User.org_id == org.id))
    for member in members:
        if member.role == Role.participant:
            member.role = Role.sponsor.value
    audit.record(session, "org.approved", actor_id=actor.id, org=org.id, slug=org.slug)
    return org


def set_org(session: Session, *, user: User, org: Organization | None, actor: User) -> User:
    require(session, actor, AccountAction.manage_users)
    user.org_id = org.id if org else None
    audit.record(session, "user.org_changed", actor_id=actor.id, user=user.id, org=user.org_id)
    return user


def set_active(session: Session, *, user: User, active: bool, actor: User) -> User:
    """Deactivated users cannot log in or use their tokens, and their web sessions end;
    one admin always stays."""
    require(session, actor, AccountAction.manage_users)
    if not active and user.role == Role.admin:
        _keep_an_admin(session)
    user.active = active
    if not active:
        end_sessions(user)
    audit.record(session, "user.active_changed", actor_id=actor.id, user=user.id, active=active)
    return user


def set_role(session: Session, *, user: User, role: str, actor: User) -> User:
    """Administrators change roles; nobody can take the last admin's role away."""
    require(session, actor, AccountAction.manage_users)
    role = parse_role(role)
    if user.role == Role.admin and role != Role.admin:
        _keep_an_admin(session)
    user.role = role.value
    return user
