"""Organization pages in both languages: register, verify, invitations end to end, and
the way to become a sponsor for a participant."""

import re

from sqlalchemy import select

from jiebang import accounts
from jiebang.organizations import OrgInvitation

HUAWEI = "914403001922038216"


def _login(client, email):
    client.post("/login", data={"email": email, "password": "password123"})


def _logout(client):
    client.post("/logout")


def _register(client, **fields):
    data = {"kind": "enterprise", "name_zh": "华为技术有限公司", "name_en": "Huawei Technologies"}
    data["uscc"] = HUAWEI
    data.update(fields)
    return client.post("/organization/new", data=data)


def test_register_verify_and_read_it_in_both_languages(client, world, session):
    world.user("admin@example.com", "admin")
    world.user("owner@example.com")
    session.commit()
    _login(client, "owner@example.com")
    empty = client.get("/organization").get_data(as_text=True)
    assert "Register an applicant organization" in empty
    wrong = _register(client, uscc="914403001922038217")
    assert wrong.status_code == 400
    assert "The last character (the check character)" in wrong.get_data(as_text=True)
    assert _register(client).status_code == 302
    page = client.get("/organization").get_data(as_text=True)
    assert "Huawei Technologies" in page and HUAWEI in page
    assert "waiting for an administrator" in page
    client.set_cookie("lang", "zh")
    assert "<h1>华为技术有限公司</h1>" in client.get("/organization").get_data(as_text=True)
    client.set_cookie("lang", "en")
    org = session.scalar(select(accounts.Organization).where(accounts.Organization.uscc == HUAWEI))

    _logout(client)
    _login(client, "admin@example.com")
    listing = client.get("/admin/orgs").get_data(as_text=True)
    assert f'action="/admin/orgs/{org.id}/verify"' in listing
    client.post(f"/admin/orgs/{org.id}/verify", data={"decision": "refuse", "note": ""})
    session.expire_all()
    assert org.verification == "pending"  # a refusal needs its reason
    client.post(
        f"/admin/orgs/{org.id}/verify",
        data={
            "decision": "request_changes",
            "note": "The English name is Huawei Technologies Co., Ltd.",
        },
    )
    session.expire_all()
    assert org.verification == "changes_requested"

    _logout(client)
    _login(client, "owner@example.com")
    page = client.get("/organization").get_data(as_text=True)
    assert "Huawei Technologies Co., Ltd." in page and "changes requested" in page
    client.post(
        "/organization",
        data={
            "kind": "enterprise",
            "name_zh": "华为技术有限公司",
            "name_en": "Huawei Technologies Co., Ltd.",
            "uscc": HUAWEI,
        },
    )
    session.expire_all()
    assert org.verification == "pending" and org.name == "Huawei Technologies Co., Ltd."
    _logout(client)
    _login(client, "admin@example.com")
    client.post(f"/admin/orgs/{org.id}/verify", data={"decision": "verify"})
    session.expire_all()
    assert org.is_verified


def test_invitations_end_to_end(client, world, session):
    world.user("owner@example.com")
    world.user("colleague@example.com")
    session.commit()
    _login(client, "owner@example.com")
    _register(client)
    answer = client.post("/organization/invitations", data={"email": "colleague@example.com"})
    page = answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    link = re.search(r'id="invitation-link">([^<]+)<', page).group(1)
    path = link.split("localhost", 1)[1]
    assert "colleague@example.com" in client.get("/organization").get_data(as_text=True)
    assert link not in client.get("/organization").get_data(as_text=True)  # shown once
    _logout(client)

    anonymous = client.get(path).get_data(as_text=True)
    assert "Log in with that address" in anonymous and "Huawei Technologies" in anonymous
    assert client.post(path).status_code == 302  # to the log-in page
    world.user("someone@example.com")
    session.commit()
    _login(client, "someone@example.com")
    refused = client.post(path, follow_redirects=True).get_data(as_text=True)
    assert "log in with that address to accept it" in refused
    _logout(client)
    _login(client, "colleague@example.com")
    client.set_cookie("lang", "zh")
    assert "华为技术有限公司" in client.get(path).get_data(as_text=True)  # the reader's language
    client.set_cookie("lang", "en")
    joined = client.post(path, follow_redirects=True).get_data(as_text=True)
    assert "Welcome to Huawei Technologies" in joined and "colleague@example.com" in joined
    colleague = accounts.get_user_by_email(session, "colleague@example.com")
    session.expire_all()
    assert colleague.org is not None and not colleague.org_admin
    assert "This invitation was used already." in client.get(path).get_data(as_text=True)
    assert client.get("/invitations/not-a-token").status_code == 404
    # A member who is not an administrator cannot invite or remove.
    assert (
        client.post("/organization/invitations", data={"email": "x@example.com"}).status_code == 403
    )
    assert (
        session.scalar(select(OrgInvitation).where(OrgInvitation.email == "x@example.com")) is None
    )


def test_a_participant_finds_the_way_to_become_a_sponsor(client, world, session):
    world.user("admin@example.com", "admin")
    world.user("p@example.com")
    session.commit()
    home = client.get("/").get_data(as_text=True)
    assert "Become a sponsor" in home and "/login?next=/sponsor" in home
    assert client.get("/sponsor").status_code == 302  # anonymous: log in first
    _login(client, "p@example.com")
    assert 'href="/sponsor"' in client.get("/").get_data(as_text=True)
    page = client.get("/sponsor")
    assert page.status_code == 200
    assert "Request a sponsor organization" in page.get_data(as_text=True)
    client.post("/sponsor/request", data={"slug": "port-group", "name": "Port Group"})
    assert "waiting for an administrator" in client.get("/sponsor").get_data(as_text=True)
    org = accounts.get_org(session, "port-group")

    _logout(client)
    _login(client, "admin@example.com")
    client.post(
        f"/admin/orgs/{org.id}/sponsor",
        data={"decision": "request_changes", "note": "Use the registered name."},
    )
    _logout(client)
    _login(client, "p@example.com")
    page = client.get("/sponsor").get_data(as_text=True)
    assert "changes requested" in page and "Use the registered name." in page
    client.post("/sponsor/request", data={"name": "Port Group Co., Ltd."})
    session.expire_all()
    assert org.sponsor_request == "pending" and org.name == "Port Group Co., Ltd."

    _logout(client)
    _login(client, "admin@example.com")
    client.post(f"/admin/orgs/{org.id}/sponsor", data={"decision": "approve"})
    _logout(client)
    _login(client, "p@example.com")
    sponsor_page = client.get("/sponsor").get_data(as_text=True)
    assert "Request a sponsor organization" not in sponsor_page
    assert "Become a sponsor" not in client.get("/").get_data(as_text=True)


def test_become_a_sponsor_in_chinese(client, world, session):
    """The page stands in the Chinese layout (its own words come with the catalog)."""
    world.user("p@example.com")
    session.commit()
    _login(client, "p@example.com")
    client.set_cookie("lang", "zh")
    page = client.get("/sponsor")
    assert page.status_code == 200 and '<html lang="zh-CN"' in page.get_data(as_text=True)


def test_an_invitee_without_an_account_signs_up_and_comes_back_to_the_invitation(
    client, world, session
):
    owner = world.user("owner@example.com")
    session.commit()
    _login(client, "owner@example.com")
    _register(client)
    page = client.post("/organization/invitations", data={"email": "new@example.com"})
    path = "/invitations/" + re.search(
        r"/invitations/([\w-]+)<", page.get_data(as_text=True)
    ).group(1)
    _logout(client)
    signed_up = client.post(
        f"/register?next={path}",
        data={
            "name": "New",
            "email": "new@example.com",
            "password": "password123",
            "confirm": "password123",
        },
    )
    assert signed_up.status_code == 302 and path in signed_up.headers["Location"]
    logged_in = client.post(
        f"/login?next={path}", data={"email": "new@example.com", "password": "password123"}
    )
    assert logged_in.headers["Location"].endswith(path)
    client.post(path)
    newcomer = accounts.get_user_by_email(session, "new@example.com")
    session.expire_all()
    assert owner.org_id is not None and newcomer.org_id == owner.org_id


def test_notifications_name_the_organization_in_the_readers_language(world, session):
    from jiebang import organizations as org_services
    from jiebang.notifications import Notification
    from web.notification_text import gettext_for, render_note

    admin = world.user("admin@example.com", "admin")
    owner = world.user("owner@example.com")
    org = org_services.register_org(
        session, user=owner, kind="enterprise", name_en="Huawei Technologies",
        name_zh="华为技术有限公司", uscc=HUAWEI,
    )  # fmt: skip
    org_services.review_org(session, org=org, actor=admin, decision="verify")
    note = session.scalar(select(Notification).where(Notification.user_id == owner.id))
    assert render_note(note, "en", gettext_for("en")).title == "Verified: Huawei Technologies"
    assert "华为技术有限公司" in render_note(note, "zh", gettext_for("zh")).title


def test_the_organization_page_shows_the_short_name_a_consortium_lead_types(client, world, session):
    """A lead adds a partner by its short name (made from the English name it was first
    registered with, and kept when the name is corrected): the partner's page says it."""
    world.user("owner@example.com")
    session.commit()
    _login(client, "owner@example.com")
    assert _register(client, name_en="Huawei Tech").status_code == 302
    page = client.get("/organization").get_data(as_text=True)
    assert re.search(r'id="org-slug"><code>huawei-tech</code>', page)
