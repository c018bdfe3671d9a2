"""Applicant organizations (揭榜方): registration, an administrator's verification, members
by invitation.

A signed-in user without an organization registers one (kind, legal names, unified
social credit code); it waits ``pending`` until an administrator verifies it, refuses
it or asks for changes with a note; its administrator edits and resubmits. The first
member is the organization's administrator (``User.org_admin``); administrators invite
members by email, remove them and name other administrators. A user belongs to at most
one organization. Sponsoring is a separate request (``jiebang.orgs``).
Services take a session and keyword arguments; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import ForeignKey, String, column, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from jiebang import audit, notifications
from jiebang import uscc as uscc_codes
from jiebang.accounts import Organization, OrgKind, Role, User, Verification, validate_email
from jiebang.db import Base, UTCDateTime, utcnow
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound
from jiebang.names import clean_name
from jiebang.notifications import N_
from jiebang.policy import AccountAction, require

INVITATION_DAYS = 7


class OrgInvitation(Base):
    """An invitation to join an organization; only the sha256 of its token is stored."""

    __tablename__ = "org_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organization] = relationship(lazy="joined")

    def state(self, now: dt.datetime) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "open"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


# The kinds that are legal persons in China and so carry a credit code (GB 32100 covers
# every one of them); "other" (e.g. an organization abroad) may give none.
CODED_KINDS = frozenset(
    {OrgKind.enterprise, OrgKind.university, OrgKind.research_institute, OrgKind.government}
)
# States in which the organization's own administrators may still edit it.
EDITABLE = frozenset(
    {
        Verification.unverified,
        Verification.pending,
        Verification.refused,
        Verification.changes_requested,
    }
)


class Decision(enum.StrEnum):
    verify = "verify"
    refuse = "refuse"
    request_changes = "request_changes"


for _kind in (
    notifications.Kind(
        "org.invited",
        N_("Invitation to join %(org)s"),
        N_("%(inviter)s invites you to join %(org)s on Jiebang. Open the link to accept."),
        audience=N_("the invited person"),
    ),
    notifications.Kind(
        "org.verified",
        N_("Verified: %(org)s"),
        N_(
            "An administrator verified %(org)s; it may apply where verified applicants are "
            "asked for."
        ),
        audience=N_("the organization's administrators"),
    ),
    notifications.Kind(
        "org.refused",
        N_("Not verified: %(org)s"),
        N_("An administrator refused to verify %(org)s: %(note)s"),
        audience=N_("the organization's administrators"),
    ),
    notifications.Kind(
        "org.changes_requested",
        N_("Changes requested: %(org)s"),
        N_("An administrator asks for changes to %(org)s before verifying it: %(note)s"),
        audience=N_("the organization's administrators"),
    ),
):
    notifications.register(_kind)


def parse_kind(kind: str) -> OrgKind:
    try:
        return OrgKind(kind)
    except ValueError:
        raise Invalid(
            "kind", "Kind must be one of %(kinds)s.", kinds=", ".join(k.value for k in OrgKind)
        ) from None


def _details(
    session: Session, *, kind: str, name_en: str, name_zh: str, uscc: str, org_id: int | None
) -> dict:
    """The checked fields of an organization; ``org_id`` is the one being edited."""
    kind = parse_kind(kind)
    name_en = clean_name(name_en, field="name_en", high=200) if name_en.strip() else ""
    name_zh = clean_name(name_zh, field="name_zh", high=200) if name_zh.strip() else ""
    if kind in CODED_KINDS and not name_zh:
        raise Invalid("name_zh", "Give the legal name in Chinese, as on the business licence.")
    if not (name_en or name_zh):
        raise Invalid("name_en", "Give the organization's legal name.")
    code = None
    if uscc.strip():
        code = uscc_codes.validate(uscc)
    elif kind in CODED_KINDS:
        raise Invalid(
            "uscc",
            "An organization of this kind has a unified social credit code (18 characters); "
            "give it.",
        )
    if code is not None and _code_taken(session, code, org_id):
        raise _code_conflict()
    return {"kind": kind.value, "name": name_en or name_zh, "name_zh": name_zh, "uscc": code}


def _code_taken(session: Session, code: str, org_id: int | None) -> bool:
    taken = session.scalar(select(Organization.id).where(Organization.uscc == code))
    return taken is not None and taken != org_id


def _code_conflict() -> Conflict:
    return Conflict(
        "uscc",
        "An organization with this credit code is registered already; ask its "
        "administrators to invite you.",
    )


@contextmanager
def _unique_code(session: Session) -> Iterator[None]:
    """Write the block's changes in a savepoint: the unique index on the code settles a
    registration racing another with the same code (the check before only makes the
    usual case friendly), and the session goes on without them."""
    session.flush()  # what came before is not the block's to undo
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError:
        raise _code_conflict() from None


def _slug(session: Session, name: str) -> str:
    """A free slug from the English name (``org`` when it has no Latin letters)."""
    base = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", name).lower()).strip("-")
    base = base[:48].strip("-") or "org"
    slug, n = base, 1
    while session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def register_org(
    session: Session, *, user: User, kind: str, name_en: str, name_zh: str = "", uscc: str = ""
) -> Organization:
    """A new applicant organization, pending verification, with ``user`` its administrator."""
    require(session, user, AccountAction.register_org)
    fields = _details(session, kind=kind, name_en=name_en, name_zh=name_zh, uscc=uscc, org_id=None)
    org = Organization(
        slug=_slug(session, fields["name"]),
        approved=False,
        verification=Verification.pending.value,
        **fields,
    )
    with _unique_code(session):
        session.add(org)
    user.org_id = org.id
    user.org_admin = True
    audit.record(
        session, "org.registered", actor_id=user.id, org=org.id, kind=org.kind, uscc=org.uscc
    )
    return org


def update_org(
    session: Session,
    *,
    org: Organization,
    actor: User,
    kind: str,
    name_en: str,
    name_zh: str = "",
    uscc: str = "",
) -> Organization:
    """Edit and (re)submit for verification: the organization waits ``pending`` again.
    A verified organization's identity is fixed; an administrator of the platform may
    send it back (``review_org``) to open it again."""
    require(session, actor, AccountAction.manage_org, org)
    if org.verification not in EDITABLE:
        raise Conflict("org", "A verified organization cannot be changed; ask an administrator.")
    fields = _details(
        session, kind=kind, name_en=name_en, name_zh=name_zh, uscc=uscc, org_id=org.id
    )
    with _unique_code(session):
        for key, value in fields.items():
            setattr(org, key, value)
        org.verification = Verification.pending.value
    audit.record(
        session, "org.submitted", actor_id=actor.id, org=org.id, kind=org.kind, uscc=org.uscc
    )
    return org


def review_org(
    session: Session, *, org: Organization, actor: User, decision: str, note: str = ""
) -> Organization:
    """An administrator verifies, refuses (with the reason) or asks for changes (saying
    which) an organization that waits for it, or sends a verified one back."""
    require(session, actor, AccountAction.verify_org)
    try:
        decision = Decision(decision)
    except ValueError:
        raise Invalid("decision", "Decide verify, refuse or request_changes.") from None
    note = note.strip()
    # A verified organization may be sent back (its licence lapsed, a mistake found).
    reopen = org.verification == Verification.verified and decision is not Decision.verify
    if org.verification != Verification.pending and not reopen:
        raise Conflict("org", "This organization is not waiting for verification.")
    if decision is not Decision.verify and not note:
        raise Invalid("note", "Say why, so that the organization knows what to change.")
    if len(note) > 2000:
        raise Invalid("note", "Keep the note under %(n)d characters.", n=2000)
    if decision is Decision.verify and org.kind in CODED_KINDS and not org.uscc:
        raise Conflict("uscc", "This organization has no credit code yet; ask for changes.")
    state = {
        Decision.verify: Verification.verified,
        Decision.refuse: Verification.refused,
        Decision.request_changes: Verification.changes_requested,
    }[decision]
    org.verification = state.value
    org.review_note = note
    org.verified_by = actor.id
    org.verified_at = utcnow() if state is Verification.verified else None
    audit.record(session, f"org.{state.value}", actor_id=actor.id, org=org.id, note=note)
    notifications.notify(
        session,
        kind=f"org.{state.value}",
        user_ids=admin_ids(session, org),
        params={"org": _names(org), "org_id": org.id, "note": note},
        link="/organization",
    )
    return org


def _names(org: Organization) -> dict[str, str]:
    """A notification's parameter: each reader sees the name in their language."""
    return {"en": org.display_name("en"), "zh": org.display_name("zh")}


def admin_ids(session: Session, org: Organization) -> list[int]:
    return list(
        session.scalars(select(User.id).where(User.org_id == org.id, User.org_admin, User.active))
    )


def members(session: Session, org: Organization) -> list[User]:
    return list(session.scalars(select(User).where(User.org_id == org.id).order_by(User.id)))


def invite(
    session: Session, *, org: Organization, actor: User, email: str
) -> tuple[OrgInvitation, str]:
    """An invitation by email and its token (shown once: the link to send). An earlier
    open invitation to the same address ends; a user with an account is notified."""
    require(session, actor, AccountAction.manage_org, org)
    email = validate_email(email)
    invitee = session.scalar(select(User).where(User.email == email))
    if invitee is not None and invitee.org_id == org.id:
        raise Conflict("email", "%(email)s is a member already.", email=email)
    now = utcnow()
    for old in session.scalars(
        select(OrgInvitation).where(
            OrgInvitation.org_id == org.id,
            OrgInvitation.email == email,
            OrgInvitation.accepted_at.is_(None),
            OrgInvitation.revoked_at.is_(None),
        )
    ):
        old.revoked_at = now
    token = new_token()
    invitation = OrgInvitation(
        org_id=org.id,
        email=email,
        token_hash=hash_token(token),
        invited_by=actor.id,
        created_at=now,
        expires_at=now + dt.timedelta(days=INVITATION_DAYS),
    )
    session.add(invitation)
    session.flush()
    audit.record(session, "org.invited", actor_id=actor.id, org=org.id, email=email)
    if invitee is not None:
        notifications.notify(
            session,
            kind="org.invited",
            user_ids=[invitee.id],
            params={"org": _names(org), "org_id": org.id, "inviter": actor.name},
            link=f"/invitations/{token}",
        )
    return invitation, token


def open_invitations(session: Session, org: Organization) -> list[OrgInvitation]:
    now = utcnow()
    rows = session.scalars(
        select(OrgInvitation)
        .where(OrgInvitation.org_id == org.id)
        .order_by(OrgInvitation.id.desc())
    )
    return [row for row in rows if row.state(now) == "open"]


def find_invitation(session: Session, token: str) -> OrgInvitation:
    invitation = session.scalar(
        select(OrgInvitation).where(OrgInvitation.token_hash == hash_token(token or ""))
    )
    if invitation is None:
        raise NotFound("invitation", "This invitation link is not valid; ask for a new one.")
    return invitation


def accept(session: Session, *, token: str, user: User) -> Organization:
    """Join the organization of an open invitation sent to ``user``'s address. A
    participant joining an approved sponsor becomes a sponsor, as its members are."""
    invitation = find_invitation(session, token)
    state = invitation.state(utcnow())
    if state == "accepted":
        raise Conflict("invitation", "This invitation was used already.")
    if state == "revoked":
        raise Conflict("invitation", "This invitation was withdrawn; ask for a new one.")
    if state == "expired":
        raise Conflict("invitation", "This invitation has expired; ask for a new one.")
    if user.email != invitation.email:
        raise Forbidden(
            "invitation",
            "This invitation is for %(email)s; log in with that address to accept it.",
            email=invitation.email,
        )
    if user.org_id is not None:
        raise Conflict(
            "invitation",
            "You belong to %(org)s already; a person belongs to one organization at most.",
            org=user.org.display_name("en") if user.org else str(user.org_id),
        )
    org = invitation.org
    if org.approved and (title := _competing_in(session, user, org)) is not None:
        raise Conflict(
            "invitation",
            "You are in a team of %(challenge)s, or judge it, and %(org)s sponsors it; a "
            "sponsor's member may neither take part in nor judge its challenge.",
            challenge=title,
            org=org.display_name("en"),
        )
    user.org_id = org.id
    user.org_admin = False
    if org.approved and user.role == Role.participant:
        user.role = Role.sponsor.value
    invitation.accepted_at = utcnow()
    audit.record(session, "org.joined", actor_id=user.id, org=org.id, invitation=invitation.id)
    return org


# Challenges and teams belong to a layer above (challenges); accept() reads only whether
# the user is in a team of a challenge the organization sponsors, by name, without
# importing it (as challenges.registration reads the awards).
_CHALLENGES = table(
    "challenges", column("id"), column("sponsor_org_id"), column("status"), column("slug")
)
_MEMBERSHIPS = table("memberships", column("user_id"), column("challenge_id"))
_JUDGES = table("challenge_judges", column("user_id"), column("challenge_id"))
UNDECIDED = ("draft", "in_review", "open", "closed", "judging")


def _competing_in(session: Session, user: User, org: Organization) -> str | None:
    """The slug of an undecided challenge ``org`` sponsors in which ``user`` is in a team
    or is an assigned judge (a judge must not belong to the sponsor: lifecycle's rule)."""
    for held in (_MEMBERSHIPS, _JUDGES):
        query = (
            select(_CHALLENGES.c.slug)
            .join(held, held.c.challenge_id == _CHALLENGES.c.id)
            .where(
                held.c.user_id == user.id,
                _CHALLENGES.c.sponsor_org_id == org.id,
                _CHALLENGES.c.status.in_(UNDECIDED),
            )
            .limit(1)
        )
        if (slug := session.scalar(query)) is not None:
            return slug
    return None


def revoke_invitation(session: Session, *, invitation: OrgInvitation, actor: User) -> OrgInvitation:
    require(session, actor, AccountAction.manage_org, invitation.org)
    if invitation.state(utcnow()) != "open":
        raise Conflict("invitation", "This invitation is not open any more.")
    invitation.revoked_at = utcnow()
    audit.record(session, "org.invitation_revoked", actor_id=actor.id, org=invitation.org_id)
    return invitation


def _keep_an_org_admin(session: Session, org: Organization, member: User) -> None:
    others = [uid for uid in admin_ids(session, org) if uid != member.id]
    if member.org_admin and not others:
        raise Conflict("member", "Name another administrator of the organization first.")


def remove_member(session: Session, *, org: Organization, member: User, actor: User) -> User:
    """Out of the organization; a sponsor's member goes back to being a participant."""
    require(session, actor, AccountAction.manage_org, org)
    if member.org_id != org.id:
        raise NotFound("member", "No such member.")
    _keep_an_org_admin(session, org, member)
    member.org_id = None
    member.org_admin = False
    if member.role == Role.sponsor:
        member.role = Role.participant.value
    audit.record(session, "org.member_removed", actor_id=actor.id, org=org.id, user=member.id)
    return member


def set_org_admin(
    session: Session, *, org: Organization, member: User, actor: User, admin: bool
) -> User:
    require(session, actor, AccountAction.manage_org, org)
    if member.org_id != org.id:
        raise NotFound("member", "No such member.")
    if not admin:
        _keep_an_org_admin(session, org, member)
    member.org_admin = admin
    audit.record(
        session, "org.admin_changed", actor_id=actor.id, org=org.id, user=member.id, admin=admin
    )
    return member
