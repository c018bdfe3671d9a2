"""Registration on the web pages and over the API (issue 14): a consortium forms, applies
accepting the terms; the sponsor approves one team and refuses another; only approved
teams download the data and submit; both languages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from challenges import registration
from challenges.applicants import Registration
from jiebang.audit import AuditEvent

RULES = {
    "applicants": {"who": "consortia", "max_partners": 2},
    "registration": {"mode": "approval", "closes_at": "2098-01-01T00:00:00+08:00"},
}


@pytest.fixture
def cast(world, session):
    item = world.challenge(
        opens_at="2020-01-01T00:00:00+08:00", closes_at="2099-01-01T00:00:00+08:00", **RULES
    )
    registration.amend_terms(session, challenge=item, en="Play fair.", zh="公平竞赛。", actor=None)
    people = {"sponsor": world.user("s@example.com", "sponsor", org=world.org())}
    for slug in ("alpha", "beta", "gamma"):
        org = world.org(slug)
        org.verification = "verified"
        people[slug] = world.user(f"lead@{slug}.example.com", org=org)
        people[f"{slug}-admin"] = world.user(f"admin@{slug}.example.com", org=org)
        people[f"{slug}-admin"].org_admin = True
    world.team(item, people["alpha"], name="Alpha Team")
    world.team(item, people["gamma"], name="Gamma Team")
    session.commit()
    return item, people


def login(client, email):
    client.post("/logout")
    response = client.post("/login", data={"email": email, "password": "password123"})
    assert response.status_code == 302


def _registration(session, team_name):
    from challenges.models import Team

    team = session.scalar(select(Team).where(Team.name == team_name))
    session.expire_all()
    return session.scalar(select(Registration).where(Registration.team_id == team.id))


def test_a_consortium_applies_and_the_sponsor_decides_on_the_pages(client, cast, session):
    _item, people = cast
    rules = client.get("/challenges/parity/rules").get_data(as_text=True)
    assert 'id="who-may-apply"' in rules and "at most 2 partner organizations" in rules
    login(client, "lead@alpha.example.com")
    page = client.get("/challenges/parity/data").get_data(as_text=True)
    assert 'id="registration-needed"' in page
    assert client.get("/challenges/parity/data/train.csv").status_code == 403
    page = client.get("/challenges/parity/team").get_data(as_text=True)
    assert 'id="registration-panel"' in page
    client.post("/challenges/parity/registration/partners", data={"org": "beta"})
    page = client.get("/challenges/parity/registration").get_data(as_text=True)
    assert "Play fair." in page and "waiting for its confirmation" in page
    # Applying before the partner confirms: refused, with the reason.
    response = client.post(
        "/challenges/parity/registration",
        data={"accept": "1", "terms_version": "1"},
        follow_redirects=True,
    )
    assert "Waiting for these partners to confirm: Beta" in response.get_data(as_text=True)
    # The partner's administrator confirms on the invitations page (in Chinese).
    login(client, "admin@beta.example.com")
    client.get("/lang/zh")
    page = client.get("/consortium-invitations").get_data(as_text=True)
    assert "Alpha Team" in page
    row = registration.pending_invitations(session, user=people["beta-admin"])[0]
    client.post(f"/consortium-invitations/{row.id}", data={"accept": "1"})
    assert registration.pending_invitations(session, user=people["beta-admin"]) == []
    login(client, "lead@alpha.example.com")
    # Without ticking the terms box nothing happens.
    client.post("/challenges/parity/registration", data={"terms_version": "1"})
    assert _registration(session, "Alpha Team") is None
    client.post("/challenges/parity/registration", data={"accept": "1", "terms_version": "1"})
    got = _registration(session, "Alpha Team")
    assert (got.status, got.terms_version) == ("pending", 1)
    # Gamma applies alone; the sponsor approves Alpha's consortium and refuses Gamma.
    login(client, "lead@gamma.example.com")
    client.post("/challenges/parity/registration", data={"accept": "1", "terms_version": "1"})
    login(client, "s@example.com")
    page = client.get("/challenges/parity/registrations").get_data(as_text=True)
    assert "Alpha Team" in page and "Gamma Team" in page and "Beta" in page
    alpha, gamma = _registration(session, "Alpha Team"), _registration(session, "Gamma Team")
    client.post(
        f"/challenges/parity/registrations/{alpha.team_id}/decision", data={"decision": "approve"}
    )
    response = client.post(
        f"/challenges/parity/registrations/{gamma.team_id}/decision",
        data={"decision": "refuse", "reason": ""},
        follow_redirects=True,
    )
    assert "reason" in response.get_data(as_text=True)
    client.post(
        f"/challenges/parity/registrations/{gamma.team_id}/decision",
        data={"decision": "refuse", "reason": "Outside the scope"},
    )
    csv = client.get("/challenges/parity/registrations.csv").get_data(as_text=True)
    assert "Alpha Team,approved" in csv and "Gamma Team,refused" in csv
    assert _registration(session, "Alpha Team").status == "approved"
    login(client, "lead@alpha.example.com")
    assert client.get("/challenges/parity/data/train.csv").status_code == 200
    login(client, "lead@gamma.example.com")
    client.get("/lang/zh")
    page = client.get("/challenges/parity/registration").get_data(as_text=True)
    assert "Outside the scope" in page
    assert client.get("/challenges/parity/data/train.csv").status_code == 403
    kinds = set(session.scalars(select(AuditEvent.kind)))
    assert {"registration.applied", "registration.approved", "registration.refused"} <= kinds


def test_the_api_registers_and_the_sponsor_decides(client, cast, session, token_for):
    item, people = cast
    lead, sponsor = token_for(people["alpha"]), token_for(people["sponsor"])
    state = client.get("/api/v1/challenges/parity/registration", headers=lead).get_json()
    assert state["rules"]["who"] == "consortia" and state["registration"] is None
    assert state["rules"]["terms_version"] == 1
    response = client.post("/api/v1/challenges/parity/registration", json={}, headers=lead)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid"
    response = client.post(
        "/api/v1/challenges/parity/registration", json={"terms_version": 1}, headers=lead
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["registration"]["status"] == "pending"
    # Not approved: no check kit, no submission.
    kit = client.get("/api/v1/challenges/parity/check-kit", headers=lead)
    assert kit.status_code == 403
    listed = client.get("/api/v1/challenges/parity/registrations", headers=sponsor).get_json()
    [entry] = listed["registrations"]
    assert entry["organizations"][0]["slug"] == "alpha"
    assert entry["organizations"][0]["verified"] is True
    url = f"/api/v1/challenges/parity/registrations/{entry['team_id']}/decision"
    assert client.post(url, json={"decision": "approve"}, headers=lead).status_code == 404
    response = client.post(url, json={"decision": "approve"}, headers=sponsor)
    assert response.get_json()["status"] == "approved"
    # New terms: the team accepts them again before it takes part.
    registration.amend_terms(session, challenge=item, en="Play fairer.", zh="更公平。", actor=None)
    session.commit()
    state = client.get("/api/v1/challenges/parity/registration", headers=lead).get_json()
    assert state["registration"]["terms_current"] is False
    response = client.post(
        "/api/v1/challenges/parity/registration/terms", json={"version": 1}, headers=lead
    )
    assert response.status_code == 409
    response = client.post(
        "/api/v1/challenges/parity/registration/terms", json={"version": 2}, headers=lead
    )
    assert response.get_json()["registration"]["terms_current"] is True


def test_the_api_forms_a_consortium(client, cast, session, token_for):
    _item, people = cast
    lead, admin = token_for(people["alpha"]), token_for(people["beta-admin"])
    response = client.post(
        "/api/v1/challenges/parity/registration/partners", json={"org": "beta"}, headers=lead
    )
    assert response.status_code == 201
    orgs = response.get_json()["organizations"]
    assert [(o["slug"], o["role"], o["confirmed"]) for o in orgs] == [
        ("alpha", "lead", True),
        ("beta", "partner", False),
    ]
    [invitation] = client.get("/api/v1/consortium-invitations", headers=admin).get_json()[
        "invitations"
    ]
    assert invitation["team"] == "Alpha Team"
    assert (
        client.post(
            f"/api/v1/consortium-invitations/{invitation['id']}",
            json={"accept": True},
            headers=lead,
        ).status_code
        == 403
    )
    response = client.post(
        f"/api/v1/consortium-invitations/{invitation['id']}", json={"accept": True}, headers=admin
    )
    assert response.get_json()["invitations"] == []
    state = client.get("/api/v1/challenges/parity/registration", headers=lead).get_json()
    assert all(o["confirmed"] for o in state["organizations"])


def test_open_challenges_without_registration_are_as_before(client, world, session, published):
    world.user("p@example.com")
    session.commit()
    login(client, "p@example.com")
    assert client.get("/challenges/parity/data/train.csv").status_code == 200
    assert client.get("/challenges/parity/registration").status_code == 404
    page = client.get("/challenges/parity/team").get_data(as_text=True)
    assert 'id="registration-panel"' not in page
    assert 'id="who-may-apply"' not in client.get("/challenges/parity/rules").get_data(as_text=True)


def test_the_challenge_form_sets_who_may_apply(client, world, session, bundle_dir):
    from challenges.models import Challenge
    from tests.web.test_sponsor_pages import FORM, _files, _post

    world.user("s@example.com", "sponsor", org=world.org("acme"))
    session.commit()
    login(client, "s@example.com")
    who = {
        "applicants_who": "consortia",
        "max_partners": "2",
        "round_tag": "r1",
        "registration_mode": "approval",
        "registration_closes_at": "2027-02-01T00:00",
        "terms_en": "Fair.",
        "terms_zh": "公平。",
    }
    late = {**who, "registration_closes_at": "2027-04-01T00:00"}
    response = _post(client, "/sponsor/challenges/new", {**FORM, **late, **_files(bundle_dir)})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="registration_mode-error"' in page
    assert "closes_at must be before" in page
    _post(client, "/sponsor/challenges/new", {**FORM, **who, **_files(bundle_dir)})
    item = session.query(Challenge).one()
    assert item.round_tag == "r1" and item.applicants["max_partners"] == 2
    assert item.registration["mode"] == "approval"
    assert item.registration["closes_at"].startswith("2027-02-01T00:00:00+08:00")
    assert (item.terms_en, item.terms_zh, item.terms_version) == ("Fair.", "公平。", 1)
    # A cap set in the bundle has no field: editing keeps it; the same terms keep their version.
    item.applicants = {**item.applicants, "per_organization": {"limit": 2, "across": "round"}}
    session.commit()
    form = client.get("/sponsor/challenges/port-damage/edit").get_data(as_text=True)
    assert 'value="r1"' in form and "Fair." in form
    response = _post(
        client, "/sponsor/challenges/port-damage/edit", {**FORM, **who, "team_size": "4"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    assert item.team_size == 4 and item.applicants["per_organization"]["limit"] == 2
    assert item.terms_version == 1
    _post(client, "/sponsor/challenges/port-damage/edit", {**FORM, **who, "terms_en": "Fairer."})
    session.expire_all()
    assert (item.terms_en, item.terms_version) == ("Fairer.", 2)
    # Back to an open challenge: anyone, no registration.
    back = {**FORM, "round_tag": "r1", "registration_mode": "", "applicants_who": "individuals"}
    response = _post(client, "/sponsor/challenges/port-damage/edit", back)
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    assert item.registration is None and item.applicants["who"] == "individuals"


def test_registration_notifications_read_in_each_language(world, session, cast):
    from jiebang.notifications import Notification
    from web.notification_text import gettext_for, render_note

    _item, people = cast
    from challenges.teams import team_of

    team = team_of(session, user=people["alpha"], challenge=_item)
    registration.add_partner(session, user=people["alpha"], team=team, org_slug="beta")
    note = session.scalar(
        select(Notification).where(Notification.user_id == people["beta-admin"].id)
    )
    assert note.kind == "consortium.invited"
    assert render_note(note, "en", gettext_for("en")).title == "Confirm a consortium: Parity"
    body = render_note(note, "zh", gettext_for("zh")).body
    assert "奇偶" in body and "Alpha Team" in body
