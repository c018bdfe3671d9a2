"""Sign-up, sign-in and sessions under attack: replayed cookies, deactivated accounts,
password changes, guessing passwords from many addresses, probing which emails exist."""

from jiebang import accounts, orgs, tokens
from web.app import create_app

ZH = {"Accept-Language": "zh-CN"}


def _login(client, email="p@example.com", password="password123", ip="10.0.0.1"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def _signed_in(client) -> bool:
    """Whether the client's cookie opens a signed-in page."""
    return client.get("/profile").status_code == 200


def _replay(app, cookie: str):
    """A second browser that holds a copy of someone's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def test_a_copied_session_cookie_is_dead_after_log_out(app, client, world, session):
    world.user("p@example.com")
    session.commit()
    assert _login(client).status_code == 302
    copied = client.get_cookie("session").value
    assert _signed_in(_replay(app, copied))
    client.post("/logout")
    assert not _signed_in(client)
    assert not _signed_in(_replay(app, copied))


def test_deactivation_ends_web_sessions_and_tokens_at_once(app, client, world, session):
    admin = world.user("a@example.com", "admin")
    user = world.user("p@example.com")
    token = tokens.issue_token(session, user=user, scope="manage")
    session.commit()
    _login(client)
    copied = client.get_cookie("session").value
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/tokens", headers=bearer).status_code == 200
    orgs.set_active(session, user=user, active=False, actor=admin)
    session.commit()
    assert not _signed_in(client)
    assert not _signed_in(_replay(app, copied))
    assert client.get("/api/v1/tokens", headers=bearer).status_code == 401
    # Active again: the old cookie stays dead; signing in again works.
    orgs.set_active(session, user=user, active=True, actor=admin)
    session.commit()
    assert not _signed_in(_replay(app, copied))
    assert _login(client).status_code == 302 and _signed_in(client)


def test_a_new_password_signs_out_every_other_session(app, client, world, session):
    world.user("p@example.com")
    session.commit()
    laptop = app.test_client()
    _login(client)
    _login(laptop)
    wrong = client.post(
        "/profile/password",
        data={"current": "not-it-at-all", "new": "a-new-secret", "confirm": "a-new-secret"},
    )
    assert wrong.status_code == 400 and "current password is not right" in wrong.get_data(True)
    assert _signed_in(laptop)
    changed = client.post(
        "/profile/password",
        data={"current": "password123", "new": "a-new-secret", "confirm": "a-new-secret"},
    )
    assert changed.status_code == 302
    assert _signed_in(client)  # this browser stays signed in
    assert not _signed_in(laptop)
    assert _login(laptop).status_code == 200  # the old password is refused
    assert _login(laptop, password="a-new-secret").status_code == 302


def test_an_old_style_session_id_opens_nothing(app, world, session):
    """Cookies made before generations held only the user id: they sign in no one."""
    user = world.user("p@example.com")
    session.commit()
    for forged in (str(user.id), f"{user.id}:x", f"{user.id}:{user.session_generation + 1}"):
        browser = app.test_client()
        with browser.session_transaction() as cookie:
            cookie["_user_id"] = forged
            cookie["_fresh"] = True
        assert not _signed_in(browser), forged


SIGN_UP = {"name": "Pat", "password": "password123", "confirm": "password123"}


def test_sign_up_does_not_tell_whether_an_email_has_an_account(client, world, session):
    owner = world.user("taken@example.com")
    session.commit()
    fresh = client.post("/register", data=SIGN_UP | {"email": "new@example.com"})
    taken = client.post("/register", data=SIGN_UP | {"email": "Taken@Example.com"})
    assert fresh.status_code == taken.status_code == 302
    assert fresh.headers["Location"] == taken.headers["Location"]
    first = client.get(fresh.headers["Location"]).get_data(as_text=True)
    assert "Sign in with your email and password" in first
    # Neither signs in (the same page follows both); the owner's account is untouched.
    assert not _signed_in(client)
    session.expire_all()
    assert session.query(accounts.User).filter_by(email="taken@example.com").count() == 1
    assert session.get(accounts.User, owner.id).check_password("password123")
    assert accounts.authenticate(session, email="new@example.com", password="password123")


def test_sign_up_states_fixable_mistakes_in_both_languages(client):
    reserved = client.post("/register", data=SIGN_UP | {"email": "a@x.test"}).get_data(True)
    assert "x.test, a reserved domain" in reserved
    zh = client.post("/register", data=SIGN_UP | {"email": "nope"}, headers=ZH).get_data(True)
    assert "请输入有效的邮箱地址" in zh
    hidden = client.post(
        "/register", data=SIGN_UP | {"email": "z@example.com", "name": "Pa\u200bt"}
    )
    assert "U+200B" in hidden.get_data(True)


def test_sign_ups_are_limited_per_address(settings, engine):
    app = create_app(settings.model_copy(update={"register_rate_limit": "3/hour"}))
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    here = {"REMOTE_ADDR": "10.1.1.1"}
    answers = [
        client.post(
            "/register", data=SIGN_UP | {"email": f"u{i}@example.com"}, environ_base=here
        ).status_code
        for i in range(4)
    ]
    assert answers == [302, 302, 302, 429]
    limited = client.post(
        "/register", data=SIGN_UP | {"email": "u9@example.com"}, environ_base=here, headers=ZH
    )
    assert limited.status_code == 429 and "注册" in limited.get_data(True)
    elsewhere = client.post(
        "/register",
        data=SIGN_UP | {"email": "u5@example.com"},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert elsewhere.status_code == 302


def test_failed_sign_ins_are_limited_per_account_from_any_address(client, world, session):
    """An attacker with many addresses gets 10 guesses per account per 15 minutes,
    on the page and the API together; other accounts are not affected."""
    world.user("p@example.com")
    world.user("q@example.com")
    session.commit()
    for i in range(5):
        assert _login(client, password="guess", ip=f"10.2.0.{i}").status_code == 200
    for i in range(5):
        answer = client.post(
            "/api/v1/tokens",
            json={"email": "P@example.com", "password": "guess"},
            environ_base={"REMOTE_ADDR": f"10.3.0.{i}"},
        )
        assert answer.status_code == 401
    blocked = _login(client, ip="10.4.0.1")  # even the right password, from a new address
    assert blocked.status_code == 429
    assert "Too many failed sign-ins for this account" in blocked.get_data(True)
    api = client.post(
        "/api/v1/tokens",
        json={"email": "p@example.com", "password": "password123"},
        environ_base={"REMOTE_ADDR": "10.4.0.2"},
        headers=ZH,
    )
    assert api.status_code == 429 and "15 分钟" in api.get_json()["error"]["message"]
    assert _login(client, "q@example.com", ip="10.4.0.3").status_code == 302


def test_successful_sign_ins_do_not_count_against_the_account(client, world, session):
    world.user("p@example.com")
    session.commit()
    for i in range(12):
        assert _login(client, ip=f"10.5.0.{i}").status_code == 302


def test_a_stolen_session_cannot_guess_the_password_on_the_password_form(client, world, session):
    world.user("p@example.com")
    session.commit()
    _login(client)
    guess = {"current": "guess-guess", "new": "a-new-secret", "confirm": "a-new-secret"}
    answers = [client.post("/profile/password", data=guess).status_code for _ in range(11)]
    assert answers == [400] * 10 + [429]
    right = guess | {"current": "password123"}
    assert client.post("/profile/password", data=right).status_code == 429
