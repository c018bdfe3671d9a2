"""API tokens: made with email and password (``jiebang login``), listed, revoked.

Managing tokens takes a ``manage`` token (or the profile page): a leaked read or
submit token cannot list its owner's tokens nor revoke them; it may revoke itself.
"""

from __future__ import annotations

import datetime as dt

from flask import g
from flask_babel import gettext as _

from jiebang import accounts, tokens
from web.api import read
from web.api import schemas as s
from web.api.base import bp, parse, token_required
from web.api.openapi import doc
from web.errors import api_error
from web.ext import account_login_limit, db, limiter, login_limit, login_limited


@bp.post("/tokens")
@doc(
    "Create a token with your email and password",
    s.TokenCreated,
    tag="tokens",
    status=201,
    body=s.TokenCreate,
)
@limiter.limit(login_limit, error_message=login_limited)
@account_login_limit
def create_token():
    session = db()
    body = parse(s.TokenCreate)
    user = accounts.authenticate(session, email=body.email, password=body.password)
    if user is None:
        return api_error("unauthorized", _("Wrong email or password."), 401)
    token = tokens.issue_token(
        session,
        user=user,
        name=body.name,
        scope=body.scope,
        expires_in=dt.timedelta(days=body.days),
    )
    record = tokens.token_record(session, token)
    session.commit()
    made = s.TokenCreated(
        id=record.id,
        token=token,
        name=record.name,
        scope=record.scope,
        expires_at=record.expires_at,
    )
    return read.reply(made, 201)


@bp.get("/tokens")
@doc("Your tokens (never the secrets)", s.TokenList, tag="tokens", scope="manage")
@token_required("manage")
def list_tokens():
    rows = tokens.list_tokens(db(), g.api_user)
    return read.reply(
        s.TokenList(tokens=[s.TokenView.model_validate(r, from_attributes=True) for r in rows])
    )


@bp.delete("/tokens/<id:token_id>")
@doc(
    "Revoke one of your tokens (any token may revoke itself; others need scope manage)",
    s.TokenRevoked,
    tag="tokens",
    scope="read",
)
@token_required("read")
def revoke_token(token_id: int):
    session = db()
    tokens.revoke_token(session, user=g.api_user, token_id=token_id, via=g.api_token)
    session.commit()
    return read.reply(s.TokenRevoked(id=token_id, revoked=True))
