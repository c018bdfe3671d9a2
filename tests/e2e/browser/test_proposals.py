"""A sponsor assigns a reviewer, the reviewer scores two proposals, the sponsor shortlists
one; the shortlisted team submits and the other is refused."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CRITERIA = [
    {"name": "technical", "title": {"en": "Technical approach", "zh": "技术方案"}, "weight": 60},
    {"name": "plan", "title": {"en": "Plan and deliverables", "zh": "实施计划"}, "weight": 40},
]


@pytest.fixture
def staged(world, session, blobs, digits, server):
    """The example challenge with a proposal stage whose due date has passed; two teams
    handed in proposals before it; a sponsor member and an outside expert."""
    from challenges import proposals
    from jiebang.db import utcnow
    from tests.challenges.test_proposals import make_pdf

    due = utcnow() - dt.timedelta(hours=1)
    digits.proposal = {"due": due.isoformat(), "max_mb": 5, "shortlist": 1, "criteria": CRITERIA}
    world.user("sponsor@example.com", "sponsor", org=digits.sponsor)
    world.user("expert@example.com")
    teams = {}
    for email, name in (
        ("ada@example.com", "Sharp Eyes 慧眼"),
        ("bo@example.com", "Baseline 基线"),
    ):
        user = world.user(email)
        teams[email] = world.team(digits, user, name=name)
        proposals.upload(
            session, user=user, team=teams[email], challenge=digits,
            stream=io.BytesIO(make_pdf(name.split()[0])), filename=f"{name}.pdf", blobs=blobs,
            now=due - dt.timedelta(days=1),
        )  # fmt: skip
    session.commit()
    return digits, teams


def test_a_sponsor_shortlists_from_reviewed_proposals(
    pages, staged, lang, tr, check, login, good_bundle_zip
):
    challenge, teams = staged
    ada, bo = teams["ada@example.com"], teams["bo@example.com"]

    sponsor = pages.new()
    login(sponsor, "sponsor@example.com")
    sponsor.goto(f"/challenges/{challenge.slug}/proposals")
    sponsor.get_by_label(tr("Reviewer’s email")).fill("expert@example.com")
    sponsor.get_by_role("button", name=tr("Assign reviewer")).click()
    expect(sponsor.get_by_text(tr("Reviewer assigned."))).to_be_visible()
    check(sponsor)

    expert = pages.new()
    login(expert, "expert@example.com")
    expert.get_by_role("link", name=tr("Reviews"), exact=True).click()
    expert.get_by_role("link", name=challenge.title(lang)).click()
    check(expert)
    for team, technical, plan in ((ada, "90", "80"), (bo, "60", "70")):
        expert.fill(f"#s-{team.id}-technical", technical)
        expert.fill(f"#s-{team.id}-plan", plan)
        expert.fill(f"#s-{team.id}-plan-c", f"Comment for {team.name}")
        expert.locator(f"section[aria-labelledby=p-{team.id}]").get_by_role(
            "button", name=tr("Save scores")
        ).click()
        expect(expert.get_by_text(tr("Scores saved."))).to_be_visible()

    sponsor.reload()
    rows = sponsor.locator("table.board tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Sharp Eyes 慧眼")
    expect(rows.nth(0)).to_contain_text("86.00")  # 90·0.6 + 80·0.4
    expect(rows.nth(1)).to_contain_text("64.00")
    sponsor.get_by_label(tr("Shortlist %(team)s", team=ada.name)).check()
    sponsor.get_by_role("button", name=tr("Make the shortlist final")).click()
    expect(sponsor.get_by_text(tr("The shortlist is final; the teams are told."))).to_be_visible()

    for email, shortlisted in (("ada@example.com", True), ("bo@example.com", False)):
        page = pages.new()
        login(page, email)
        page.goto(f"/challenges/{challenge.slug}/proposal")
        said = (
            "Your team is shortlisted: it may submit solutions."
            if shortlisted
            else ("Your team was not shortlisted.")
        )
        expect(page.locator("#shortlist-result")).to_contain_text(tr(said))
        page.goto(f"/challenges/{challenge.slug}/team")
        page.get_by_label(tr("Code bundle (zip)")).check()
        page.get_by_label(tr("File"), exact=True).set_input_files(good_bundle_zip)
        page.get_by_role("button", name=tr("Submit"), exact=True).click()
        if shortlisted:
            page.wait_for_url("**/submissions/*", timeout=120_000)
            expect(
                page.get_by_text(tr("Submission received; it is queued for evaluation."))
            ).to_be_visible()
        else:
            error = page.locator(".upload-error")
            expect(error).to_contain_text(
                tr("Your team was not shortlisted for this challenge, so it cannot submit.")
            )
