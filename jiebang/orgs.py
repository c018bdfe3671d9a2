"""Organizations and users as administrators manage them.

A signed-in user asks to register a sponsor organization (or an organization's
administrator asks for it to sponsor); the request waits ``pending`` until an
administrator approves it, which makes its members sponsors, refuses it or asks for
changes, each with a note; the requester edits and asks again. Sponsoring and the
verification of a legal identity (``jiebang.organizations``) are separate states.
Administrators also move users between organizations, change
their roles and deactivate accounts; who may is ruled in ``jiebang.policy``.
Services take a session and keyword arguments; the caller commits.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiebang import audit
from jiebang.accounts import (
    Organization,
    Role,
    SponsorRequest,
    User,
    create_org,
    end_sessions,
    has_members,
    parse_role,
)
from jiebang.errors import Conflict, Invalid
from jiebang.names import clean_name
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
    org.sponsor_request = SponsorRequest.pending.value
    user.org_id = org.id
    user.org_admin = True
    audit.record(session, "org.requested", actor_id=user.id, org=org.id, slug=org.slug)
    return org


def request_sponsoring(
    session: Session, *, org: Organization, actor: User, name: str | None = None
) -> Organization:
    """Ask (again) for ``org`` to sponsor: an applicant organization's first request, or
    the answer to a refusal or a request for changes, with the display name edited."""
    require(session, actor, AccountAction.manage_org, org)
    if org.approved:
        raise Conflict("org", "This organization is a sponsor already.")
    if org.sponsor_request == SponsorRequest.pending:
        raise Conflict("org", "This request waits for an administrator already.")
    if name is not None and name.strip():
        org.name = clean_name(name.strip(), field="name", high=200)
    org.sponsor_request = SponsorRequest.pending.value
    audit.record(session, "org.requested", actor_id=actor.id, org=org.id, slug=org.slug)
    return org


def decide_sponsoring(
    session: Session, *, org: Organization, actor: User, decision: str, note: str = ""
) -> Organization:
    """``approve`` (``approve_org``), ``refuse`` or ``request_changes``; the last two
    say why in ``note``, which the requester reads on /sponsor."""
    if decision == "approve":
        return approve_org(session, org=org, actor=actor)
    require(session, actor, AccountAction.approve_org)
    if decision not in ("refuse", "request_changes"):
        raise Invalid("decision", "Decide approve, refuse or request_changes.")
    note = note.strip()
    if not note:
        raise Invalid("note", "Say why, so that the organization knows what to change.")
    if len(note) > 2000:
        raise Invalid("note", "Keep the note under %(n)d characters.", n=2000)
    if org.approved or org.sponsor_request != SponsorRequest.pending:
        raise Conflict("org", "This organization has no sponsor request waiting.")
    state = SponsorRequest.refused if decision == "refuse" else SponsorRequest.changes_requested
    org.sponsor_request = state.value
    org.sponsor_note = note
    audit.record(session, f"org.sponsor_{state.value}", actor_id=actor.id, org=org.id, note=note)
    return org


def approve_org(session: Session, *, org: Organization, actor: User) -> Organization:
    """Approve; its participants become sponsors (administrators and judges stay)."""
    require(session, actor, AccountAction.approve_org)
    if org.approved:
        raise Invalid("org", "This organization is approved already.")
    org.approved = True
    org.sponsor_request = SponsorRequest.approved.value
    org.sponsor_note = ""
    members = session.scalars(select(User).where(User.org_id == org.id))
    for member in members:
        if member.role == Role.participant:
            member.role = Role.sponsor.value
    audit.record(session, "org.approved", actor_id=actor.id, org=org.id, slug=org.slug)
    return org


def set_org(session: Session, *, user: User, org: Organization | None, actor: User) -> User:
    require(session, actor, AccountAction.manage_users)
    # Moved into an organization without members, the user administers it.
    user.org_admin = org is not None and not has_members(session, org)
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
