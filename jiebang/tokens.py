"""API tokens: issued, listed and revoked by their owner, checked on every API request.

Only a token's sha256 is stored; the token itself is shown once. A token has one
scope (``SCOPES``): ``read`` reads, ``submit`` also submits, ``manage`` may do what
its owner may do on the web (the API's ``token_required`` decides which a route needs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from jiebang.accounts import User
from jiebang.db import Base, UTCDateTime, utcnow
from jiebang.errors import Forbidden, Invalid, NotFound

TOKEN_PREFIX = "jb_"
# Narrowest first: each scope may do what the ones before it may.
SCOPES = ("read", "submit", "manage")


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


def scope_covers(scope: str, needed: str) -> bool:
    """Whether a token of ``scope`` may call a route that needs ``needed``; an unknown
    scope covers nothing."""
    return scope in SCOPES and SCOPES.index(scope) >= SCOPES.index(needed)


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


def revoke_token(
    session: Session, *, user: User, token_id: int, via: ApiToken | None = None
) -> ApiToken:
    """Revoke one of ``user``'s tokens. ``via`` is the token the request came with
    (None: a signed-in web session). Any token may revoke itself (``jiebang logout``);
    only a ``manage`` token may revoke the others, so a leaked read-only token cannot
    cut its owner off."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("token", "No token %(id)s among yours.", id=token_id)
    if via is not None and via.id != row.id and via.scope != "manage":
        raise Forbidden(
            "token",
            "Revoking another token needs a token with scope 'manage'; or revoke it on your "
            "profile page.",
        )
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
