"""Organizations and users as administrators manage them.

A signed-in user asks to register an organization; it waits unapproved, with the
user as its first member, until an administrator approves it, which makes its
members sponsors. Administrators also move users between organizations and
deactivate accounts. Services take a session and keyword arguments; the caller
commits.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiebang import audit
from jiebang.accounts import Organization, Role, User, create_org, end_sessions
from jiebang.errors import Conflict, Forbidden, Invalid


def _admin(actor: User) -> None:
    if actor.role != Role.admin:
        raise Forbidden("role", "Only an administrator may do this.")


def request_org(session: Session, *, user: User, slug: str, name: str) -> Organization:
    if user.org_id is not None:
        raise Conflict("slug", "You belong to an organization already.")
    org = create_org(session, slug=slug, name=name, approved=False)
    user.org_id = org.id
    audit.record(session, "org.requested", actor_id=user.id, org=org.id, slug=org.slug)
    return org


def approve_org(session: Session, *, org: Organization, actor: User) -> Organization:
    """Approve; its participants become sponsors (administrators and judges stay)."""
    _admin(actor)
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
    _admin(actor)
    user.org_id = org.id if org else None
    audit.record(session, "user.org_changed", actor_id=actor.id, user=user.id, org=user.org_id)
    return user


def set_active(session: Session, *, user: User, active: bool, actor: User) -> User:
    """Deactivated users cannot log in or use their tokens, and their web sessions end;
    one admin always stays."""
    _admin(actor)
    if not active and user.role == Role.admin:
        admins = session.scalar(
            select(func.count()).where(User.role == Role.admin.value, User.active)
        )
        if admins <= 1:
            raise Conflict("role", "Keep at least one administrator.")
    user.active = active
    if not active:
        end_sessions(user)
    audit.record(session, "user.active_changed", actor_id=actor.id, user=user.id, active=active)
    return user
