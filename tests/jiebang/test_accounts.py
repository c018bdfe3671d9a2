import datetime as dt

import pytest

from jiebang import accounts, tokens
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
    token = tokens.issue_token(session, user=user)
    row = session.query(tokens.ApiToken).one()
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert tokens.user_for_token(session, token) == user
    assert tokens.user_for_token(session, token + "x") is None
    assert tokens.user_for_token(session, "garbage") is None
    row.expires_at = accounts.utcnow() - dt.timedelta(seconds=1)
    assert tokens.user_for_token(session, token) is None
    row.expires_at = None
    row.revoked = True
    assert tokens.user_for_token(session, token) is None


def test_orgs_have_unique_slugs(session):
    accounts.create_org(session, slug="port", name="Port Group")
    with pytest.raises(Conflict):
        accounts.create_org(session, slug="PORT", name="Again")
    assert accounts.get_org(session, "port").name == "Port Group"


@pytest.mark.parametrize(
    "email",
    ["x@x.test", "a@localhost", "a@b", "a b@example.com", "a@@example.com", "@example.com", ""],
)
def test_one_email_check_refuses_what_the_web_form_refuses(session, email):
    with pytest.raises(Invalid) as refused:
        accounts.create_user(session, email=email, password="long-enough")
    assert refused.value.field == "email"
    assert "example.com" in refused.value.message or "reserved domain" in refused.value.message


def test_reserved_domains_are_named_in_the_message(session):
    with pytest.raises(Invalid, match=r"x\.test, a reserved domain"):
        accounts.validate_email("good@x.test")


@pytest.mark.parametrize(
    ("email", "stored"),
    [
        (" Good@Example.COM ", "good@example.com"),
        ("nobody@x.org", "nobody@x.org"),
        ("first.last+tag@sub.example.co", "first.last+tag@sub.example.co"),
        ("用户@例子.中国", "用户@例子.中国"),
    ],
)
def test_ordinary_addresses_are_accepted_without_any_lookup(session, email, stored):
    assert accounts.validate_email(email) == stored
    user = accounts.create_user(session, email=email, password="long-enough")
    assert user.email == stored
    assert accounts.authenticate(session, email=email, password="long-enough") == user


@pytest.mark.parametrize("name", ["Pa\u200bt", "Pat\u202e", "Pat\x00", "\u200b"])
def test_display_names_of_users_and_organizations_refuse_hidden_characters(session, name):
    with pytest.raises(Invalid, match="invisible or control") as user:
        accounts.create_user(session, email="n@example.com", password="long-enough", name=name)
    assert user.value.field == "name"
    with pytest.raises(Invalid, match="invisible or control"):
        accounts.create_org(session, slug="org", name=name)


def test_display_names_are_normalised(session):
    user = accounts.create_user(
        session, email="n@example.com", password="long-enough", name="  Ｐａｔ \u00a0 Lee "
    )
    assert user.name == "Pat Lee"
    assert accounts.create_org(session, slug="o", name=" Port\u3000Group ").name == "Port Group"


def test_sign_up_with_a_taken_email_makes_nothing_and_says_nothing(session):
    owner = accounts.sign_up(session, email="t@example.com", password="long-enough", name="T")
    assert owner is not None
    again = accounts.sign_up(session, email="T@example.com ", password="other-pass", name="X")
    assert again is None
    assert session.query(accounts.User).count() == 1
    assert owner.check_password("long-enough") and owner.name == "T"
    with pytest.raises(Invalid):  # mistakes the person can fix are still said
        accounts.sign_up(session, email="t@example.com", password="short", name="T")


def test_session_ids_end_with_log_out_deactivation_and_a_new_password(session):
    from jiebang import orgs

    admin = accounts.create_user(
        session, email="a@example.com", password="long-enough", role="admin"
    )
    user = accounts.create_user(session, email="u@example.com", password="long-enough")
    first = user.get_id()
    assert accounts.user_for_session(session, first) == user
    assert accounts.user_for_session(session, str(user.id)) is None  # the old form
    accounts.end_sessions(user)
    assert accounts.user_for_session(session, first) is None
    second = user.get_id()
    orgs.set_active(session, user=user, active=False, actor=admin)
    assert accounts.user_for_session(session, second) is None
    orgs.set_active(session, user=user, active=True, actor=admin)
    third = user.get_id()
    with pytest.raises(Invalid) as wrong:
        accounts.change_password(session, user=user, current="nope", new="new-password")
    assert wrong.value.field == "current"
    assert accounts.user_for_session(session, third) == user
    accounts.change_password(session, user=user, current="long-enough", new="new-password")
    assert accounts.user_for_session(session, third) is None
    assert accounts.authenticate(session, email="u@example.com", password="new-password") == user


def test_only_administrators_administer_accounts_and_one_always_stays(session):
    """The account rules live in jiebang.policy (below challenges) and challenges.policy
    answers them too, so a page and the service read the same rule."""
    from challenges import policy
    from jiebang import orgs
    from jiebang.errors import Forbidden
    from jiebang.policy import AccountAction

    admin = accounts.create_user(
        session, email="a@example.com", password="long-enough", role="admin"
    )
    org = accounts.create_org(session, slug="port", name="Port", approved=False)
    sponsor = accounts.create_user(
        session, email="s@example.com", password="long-enough", role="sponsor", org=org
    )
    user = accounts.create_user(session, email="u@example.com", password="long-enough", org=org)
    for action in AccountAction:
        assert policy.can(session, admin, action)
        assert not policy.can(session, sponsor, action)
        assert not policy.can(session, None, action)
    for service in (
        lambda actor: orgs.set_role(session, user=user, role="judge", actor=actor),
        lambda actor: orgs.set_org(session, user=user, org=None, actor=actor),
        lambda actor: orgs.set_active(session, user=user, active=False, actor=actor),
        lambda actor: orgs.approve_org(session, org=org, actor=actor),
    ):
        with pytest.raises(Forbidden):
            service(sponsor)
    assert user.role == "participant" and user.org_id == org.id and user.active
    assert not org.approved
    orgs.approve_org(session, org=org, actor=admin)
    assert org.approved and user.role == "sponsor"
    with pytest.raises(Conflict):
        orgs.set_role(session, user=admin, role="participant", actor=admin)
    with pytest.raises(Conflict):
        orgs.set_active(session, user=admin, active=False, actor=admin)
    orgs.set_role(session, user=user, role="judge", actor=admin)
    assert user.role == "judge"


def test_a_token_scope_covers_the_narrower_ones():
    from jiebang.tokens import scope_covers

    assert scope_covers("manage", "submit") and scope_covers("submit", "read")
    assert scope_covers("read", "read")
    assert not scope_covers("read", "submit") and not scope_covers("submit", "manage")
    assert not scope_covers("admin", "read")  # an unknown scope covers nothing
