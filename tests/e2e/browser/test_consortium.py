"""A consortium forms (a lead and a partner whose administrator confirms), applies
accepting the terms; another team applies alone; the sponsor approves the consortium and
refuses the other with a reason; only the approved team downloads the data. Both
languages."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def listed(world, session, digits, server):
    """The example challenge for verified consortia with approval, with terms; three
    verified organizations (an administrator each), two teams, the sponsor's member."""
    from challenges import registration

    closes = digits.closes_at - dt.timedelta(days=1)
    digits.applicants = {"who": "consortia", "max_partners": 2, "verified": True}
    digits.registration = {"mode": "approval", "closes_at": closes.isoformat()}
    registration.amend_terms(
        session, challenge=digits, en="Play fair.", zh="公平竞赛。", actor=None
    )
    world.user("sponsor@example.com", "sponsor", org=digits.sponsor)
    people = {}
    for slug in ("alpha", "beta", "gamma"):
        org = world.org(slug)
        org.verification = "verified"
        people[slug] = world.user(f"lead@{slug}.example.com", org=org)
        admin = world.user(f"admin@{slug}.example.com", org=org)
        admin.org_admin = True
    teams = {
        "alpha": world.team(digits, people["alpha"], name="Alpha 联合体"),
        "gamma": world.team(digits, people["gamma"], name="Gamma 独立"),
    }
    session.commit()
    return digits, teams


def test_a_consortium_applies_and_the_sponsor_decides(pages, listed, lang, tr, check, login):
    challenge, teams = listed
    slug = challenge.slug
    lead = pages.new()
    login(lead, "lead@alpha.example.com")
    lead.goto(f"/challenges/{slug}/team")
    lead.locator("#registration-panel").get_by_role("link").click()
    check(lead)
    expect(lead.locator(".terms")).to_contain_text("公平竞赛。" if lang == "zh" else "Play fair.")
    lead.get_by_label(tr("Partner organization (its short name on the platform)")).fill("beta")
    lead.get_by_role("button", name=tr("Add partner")).click()
    expect(
        lead.get_by_text(tr("Partner added; an administrator of that organization confirms it."))
    ).to_be_visible()
    expect(lead.locator("#team-orgs")).to_contain_text(tr("waiting for its confirmation"))

    partner = pages.new()
    login(partner, "admin@beta.example.com")
    partner.goto("/consortium-invitations")
    check(partner)
    expect(partner.locator("#invitations")).to_contain_text("Alpha 联合体")
    partner.get_by_role("button", name=tr("Confirm"), exact=True).click()
    expect(partner.get_by_text(tr("Partnership confirmed."))).to_be_visible()

    for page in (lead, None):
        if page is None:
            page = pages.new()
            login(page, "lead@gamma.example.com")
            page.goto(f"/challenges/{slug}/registration")
        else:
            page.reload()
        page.get_by_label(
            tr("I have read the terms (version %(v)s) and accept them for my team.", v=1)
        ).check()
        page.get_by_role("button", name=tr("Register the team")).click()
        expect(page.get_by_text(tr("Your team's registration is in."))).to_be_visible()
        expect(page.locator("#registration-state")).to_contain_text(tr("waiting for the sponsor"))
    gamma_page = page

    sponsor = pages.new()
    login(sponsor, "sponsor@example.com")
    sponsor.goto(f"/challenges/{slug}/registrations")
    check(sponsor)
    alpha_row = sponsor.locator(f"#registration-{teams['alpha'].id}")
    expect(alpha_row).to_contain_text("Beta")
    alpha_row.get_by_role("button", name=tr("Approve")).click()
    expect(sponsor.get_by_text(tr("Registration approved."))).to_be_visible()
    gamma_row = sponsor.locator(f"#registration-{teams['gamma'].id}")
    gamma_row.get_by_label(tr("Reason")).fill("Outside the scope 不在范围内")
    gamma_row.get_by_role("button", name=tr("Refuse")).click()
    expect(sponsor.get_by_text(tr("Registration refused."))).to_be_visible()
    expect(sponsor.locator(f"#registration-{teams['alpha'].id}")).to_contain_text(tr("approved"))

    lead.goto(f"/challenges/{slug}/data")
    expect(lead.locator("#registration-needed")).to_have_count(0)
    gamma_page.goto(f"/challenges/{slug}/registration")
    expect(gamma_page.locator("main")).to_contain_text("Outside the scope 不在范围内")
    gamma_page.goto(f"/challenges/{slug}/data")
    expect(gamma_page.locator("#registration-needed")).to_be_visible()
