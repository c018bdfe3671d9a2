"""Accounts: users, organizations, teams and memberships, roles, API tokens."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from jiebang.db import Base, UTCDateTime, utcnow
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound


class Role(enum.StrEnum):
    admin = "admin"
    sponsor = "sponsor"
    judge = "judge"
    participant = "participant"


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.participant.value)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
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
        return str(self.id)


class Team(Base):
    """A team takes up one challenge; the challenge table lives in `challenges`."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("challenge_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    join_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="team", cascade="all, delete-orphan"
    )


class Membership(Base):
    """One team per user per challenge: the unique key says so."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(Base):
    """Only the sha256 of a token is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    scope: Mapped[str] = mapped_column(String(20), default="submit")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    uses: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User] = relationship(lazy="joined")


TOKEN_PREFIX = "jb_"
SCOPES = ("read", "submit", "manage")
MIN_PASSWORD = 8


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role | str = Role.participant,
    name: str = "",
    org: Organization | None = None,
) -> User:
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise Invalid("email", "Enter a valid email address, like name@example.com.")
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", "Use a password of at least %(n)d characters.", n=MIN_PASSWORD)
    try:
        role = Role(role)
    except ValueError:
        raise Invalid(
            "role", "Role must be one of %(roles)s.", roles=", ".join(r.value for r in Role)
        ) from None
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("email", "An account with this email exists already; log in instead.")
    user = User(
        email=email,
        name=name.strip() or email.split("@")[0],
        password_hash=generate_password_hash(password),
        role=role.value,
        org=org,
    )
    session.add(user)
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


def create_org(session: Session, *, slug: str, name: str, approved: bool = True) -> Organization:
    slug = slug.strip().lower()
    if session.scalar(select(Organization.id).where(Organization.slug == slug)) is not None:
        raise Conflict("slug", "An organization with slug %(slug)s exists already.", slug=slug)
    org = Organization(slug=slug, name=name.strip() or slug, approved=approved)
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


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session,
    *,
    user: User,
    name: str = "",
    scope: str = "submit",
    expires_in: dt.timedelta | None = dt.timedelta(days=90),
) -> str:
    """Create a token and return it; only its hash is kept."""
    if scope not in SCOPES:
        raise Invalid("scope", "scope must be one of %(scopes)s.", scopes=", ".join(SCOPES))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + expires_in if expires_in else None
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_hash_token(token),
            name=name,
            scope=scope,
            expires_at=expires,
        )
    )
    session.flush()
    return token


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(session.scalars(query))


def revoke_token(session: Session, *, user: User, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("token", "No token %(id)s among yours.", id=token_id)
    row.revoked = True
    return row


def token_record(session: Session, token: str) -> ApiToken | None:
    """The stored token for ``token`` if it is valid: known, not revoked, not expired,
    and its user active."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if row is None or row.revoked or not row.user.active:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return row


def user_for_token(session: Session, token: str) -> User | None:
    row = token_record(session, token)
    return row.user if row else None


def new_join_code() -> str:
    return secrets.token_urlsafe(9)


def set_role(session: Session, *, user: User, role: str, actor: User) -> User:
    """Administrators change roles; nobody can take the last admin's role away."""
    if actor.role != Role.admin:
        raise Forbidden("role", "Only an administrator may change roles.")
    try:
        role = Role(role)
    except ValueError:
        raise Invalid(
            "role", "Role must be one of %(roles)s.", roles=", ".join(r.value for r in Role)
        ) from None
    if user.role == Role.admin and role != Role.admin:
        admins = session.scalar(
            select(func.count()).where(User.role == Role.admin.value, User.active)
        )
        if admins <= 1:
            raise Conflict("role", "Keep at least one administrator.")
    user.role = role.value
    return user
