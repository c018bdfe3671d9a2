"""Accounts: users, organizations, roles, passwords and web sessions."""

from __future__ import annotations

import datetime as dt
import enum

import email_validator
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from jiebang import uscc as uscc_codes
from jiebang.db import Base, UTCDateTime, utcnow
from jiebang.errors import Conflict, Invalid, NotFound
from jiebang.names import clean_name


class Role(enum.StrEnum):
    admin = "admin"
    sponsor = "sponsor"
    judge = "judge"
    participant = "participant"


class OrgKind(enum.StrEnum):
    """What an organization is; every kind but ``other`` is a legal person in China with
    a unified social credit code (``jiebang.uscc``)."""

    enterprise = "enterprise"
    university = "university"
    research_institute = "research_institute"
    government = "government"
    other = "other"


class Verification(enum.StrEnum):
    """An administrator's real-name check (实名) of an organization's legal identity."""

    unverified = "unverified"  # never submitted (e.g. an organization from before)
    pending = "pending"
    verified = "verified"
    refused = "refused"
    changes_requested = "changes_requested"


class SponsorRequest(enum.StrEnum):
    """A request to list challenges; ``approved`` is what ``Organization.approved`` says."""

    pending = "pending"
    approved = "approved"
    refused = "refused"
    changes_requested = "changes_requested"


class Organization(Base):
    """A sponsor (发榜方), an applicant (揭榜方), or both. ``name`` is the English legal
    name (and the display name where no Chinese one is given); ``name_zh`` the Chinese.
    Sponsoring (``approved``, ``sponsor_request``) and verification are separate states."""

    __tablename__ = "organizations"
    # A unique index (not a constraint) so that SQLite adds it without a table rebuild.
    __table_args__ = (Index("uq_organizations_uscc", "uscc", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(
        String(24), default=OrgKind.other.value, server_default=OrgKind.other.value
    )
    name_zh: Mapped[str] = mapped_column(String(200), default="", server_default="")
    uscc: Mapped[str | None] = mapped_column(String(18))
    verification: Mapped[str] = mapped_column(
        String(24), default=Verification.unverified.value, server_default="unverified"
    )
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A user id without a foreign key: users point at organizations already, and the
    # audit log keeps who decided.
    verified_by: Mapped[int | None] = mapped_column(Integer)
    review_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    sponsor_request: Mapped[str | None] = mapped_column(String(24))
    sponsor_note: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def is_verified(self) -> bool:
        return self.verification == Verification.verified

    def display_name(self, lang: str = "en") -> str:
        """The legal name in the reader's language, else the other one."""
        if lang.startswith("zh"):
            return self.name_zh or self.name
        return self.name or self.name_zh


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.participant.value)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    # Administers its organization: invites and removes members, names other admins.
    org_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every web session's id: raising it ends all of the user's sessions
    # (log-out, deactivation, a new password), even copies of an old cookie.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    org: Mapped[Organization | None] = relationship(lazy="joined")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    # Flask-Login's protocol, kept here so the web layer needs no wrapper class.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}"


MIN_PASSWORD = 8


def normalize_email(email: str) -> str:
    """The stored form of an address (for look-ups); a malformed one is only trimmed
    and lower-cased, so it matches nothing."""
    try:
        return validate_email(email)
    except Invalid:
        return email.strip().lower()


def validate_email(email: str) -> str:
    """The one check of an address, for every way in (sign-up, CLI, demo, admin).

    Syntax only (``email-validator``, no DNS: the platform may have no network);
    reserved domains that can never receive mail (``.test``, ``.invalid``,
    ``localhost`` …) are refused. Returns the address lower-cased.
    """
    email = (email or "").strip()
    try:
        checked = email_validator.validate_email(email, check_deliverability=False)
    except email_validator.EmailNotValidError:
        domain = email.rpartition("@")[2].rstrip(".").lower()
        if domain.rpartition(".")[2] in email_validator.SPECIAL_USE_DOMAIN_NAMES:
            raise Invalid(
                "email",
                "Mail cannot be delivered to %(domain)s, a reserved domain; use an address "
                "where you receive mail.",
                domain=domain,
            ) from None
        raise Invalid("email", "Enter a valid email address, like name@example.com.") from None
    if len(checked.normalized) > 254:
        raise Invalid("email", "Enter a valid email address, like name@example.com.")
    return checked.normalized.lower()


def parse_role(role: Role | str) -> Role:
    """The role named ``role``; any other name is refused with the list of roles."""
    try:
        return Role(role)
    except ValueError:
        raise Invalid(
            "role", "Role must be one of %(roles)s.", roles=", ".join(r.value for r in Role)
        ) from None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", "Use a password of at least %(n)d characters.", n=MIN_PASSWORD)


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role | str = Role.participant,
    name: str = "",
    org: Organization | None = None,
) -> User:
    email = validate_email(email)
    _check_password(password)
    role = parse_role(role)
    name = clean_name(name.strip() or email.split("@")[0], field="name", high=100)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("email", "An account with this email exists already; log in instead.")
    user = User(
        email=email,
        name=name,
        password_hash=generate_password_hash(password),
        role=role.value,
        org=org,
        # The first member administers the organization (invites, removes, names admins).
        org_admin=org is not None and not has_members(session, org),
    )
    session.add(user)
    session.flush()
    return user


def sign_up(session: Session, *, email: str, password: str, name: str) -> User | None:
    """Self-service sign-up that does not tell whether an address has an account.

    A taken address makes no second account and answers like a new one (``None``
    instead of the user, after the same password hashing, so the time tells
    nothing either); the caller shows the same page in both cases. Mistakes the
    person can fix (a bad address, a short password, a bad name) are still said.
    """
    try:
        return create_user(session, email=email, password=password, name=name)
    except Conflict:
        generate_password_hash(password)
        return None


def has_members(session: Session, org: Organization) -> bool:
    return session.scalar(select(User.id).where(User.org_id == org.id).limit(1)) is not None


def end_sessions(user: User) -> None:
    """Every web session of ``user`` ends at its next request (see ``User.get_id``)."""
    user.session_generation = (user.session_generation or 0) + 1


def user_for_session(session: Session, session_id: str) -> User | None:
    """The user of a web session id ``"<user id>:<generation>"``, if it still holds:
    the account is active and no log-out, deactivation or new password came since."""
    user_id, _sep, generation = session_id.partition(":")
    if not (user_id.isdigit() and generation.isdigit()) or int(user_id) > 2**31 - 1:
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    return user


def change_password(session: Session, *, user: User, current: str, new: str) -> User:
    """A new password ends every session of the user; the caller signs this one in again."""
    if not user.check_password(current):
        raise Invalid("current", "Your current password is not right; type it again.")
    _check_password(new)
    user.password_hash = generate_password_hash(new)
    end_sessions(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        # Hash anyway so a missing account takes as long as a wrong password.
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


_DUMMY_HASH = generate_password_hash("not-a-real-password")


def get_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound("user", "No user with email %(email)s.", email=email)
    return user


def create_org(
    session: Session,
    *,
    slug: str,
    name: str,
    approved: bool = True,
    kind: str = OrgKind.other.value,
    name_zh: str = "",
    uscc: str = "",
) -> Organization:
    """An organization made by an operator (the CLI, an administrator, the demo); the
    credit code, when given, is checked (GB 32100) and unique. Not verified."""
    slug = slug.strip().lower()
    if session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        raise Conflict("slug", "An organization with slug %(slug)s exists already.", slug=slug)
    name = clean_name(name.strip() or slug, field="name", high=200)
    if kind not in OrgKind.__members__:
        raise Invalid(
            "kind", "Kind must be one of %(kinds)s.", kinds=", ".join(k.value for k in OrgKind)
        )
    code = uscc_codes.validate(uscc) if uscc.strip() else None
    if code and session.scalar(select(Organization.id).where(Organization.uscc == code)):
        raise Conflict(
            "uscc",
            "An organization with this credit code is registered already; ask its "
            "administrators to invite you.",
        )
    org = Organization(
        slug=slug,
        name=name,
        approved=approved,
        sponsor_request=SponsorRequest.approved.value if approved else None,
        kind=kind,
        name_zh=clean_name(name_zh, field="name_zh", high=200) if name_zh.strip() else "",
        uscc=code,
    )
    session.add(org)
    session.flush()
    return org


def get_org(session: Session, slug: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise NotFound(
            "org",
            "No organization with slug %(slug)s; create it with `jiebang orgs create`.",
            slug=slug,
        )
    return org
