import datetime as dt

import pytest

from jiebang import accounts
from jiebang.errors import Conflict, Invalid


def test_password_is_hashed_and_checked(session):
    user = accounts.create_user(session, email="A@Example.com ", password="s3cret-pass")
    assert user.email == "a@example.com"
    assert "s3cret-pass" not in user.password_hash
    assert accounts.authenticate(session, email="a@example.com", password="s3cret-pass") == user
    assert accounts.authenticate(session, email="a@example.com", password="wrong-pass") is None
    assert accounts.authenticate(session, email="nobody@example.com", password="x") is None


def test_bad_accounts_are_refused_with_the_field(session):
    with pytest.raises(Invalid) as short:
        accounts.create_user(session, email="b@example.com", password="short")
    assert short.value.field == "password"
    assert "8" in short.value.message
    with pytest.raises(Invalid) as email:
        accounts.create_user(session, email="not-an-email", password="long-enough")
    assert email.value.field == "email"
    accounts.create_user(session, email="c@example.com", password="long-enough")
    with pytest.raises(Conflict):
        accounts.create_user(session, email="C@example.com", password="long-enough")
    with pytest.raises(Invalid) as role:
        accounts.create_user(session, email="d@example.com", password="long-enough", role="king")
    assert role.value.field == "role"


def test_tokens_are_stored_hashed_expire_and_revoke(session):
    user = accounts.create_user(session, email="t@example.com", password="long-enough")
    token = accounts.issue_token(session, user=user)
    row = session.query(accounts.ApiToken).one()
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert accounts.user_for_token(session, token) == user
    assert accounts.user_for_token(session, token + "x") is None
    assert accounts.user_for_token(session, "garbage") is None
    row.expires_at = accounts.utcnow() - dt.timedelta(seconds=1)
    assert accounts.user_for_token(session, token) is None
    row.expires_at = None
    row.revoked = True
    assert accounts.user_for_token(session, token) is None


def test_orgs_have_unique_slugs(session):
    accounts.create_org(session, slug="port", name="Port Group")
    with pytest.raises(Conflict):
        accounts.create_org(session, slug="PORT", name="Again")
    assert accounts.get_org(session, "port").name == "Port Group"
