"""A sponsor lists a challenge through the form, fixes a mistake, edits the draft and
sends it for review; an administrator previews and publishes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def people(world, session):
    org = world.org("harbor-co")
    world.user("sponsor@example.com", "sponsor", org=org)
    world.user("admin@example.com", "admin")
    session.commit()


def test_a_sponsor_creates_a_challenge_through_the_form(
    pages, people, bundle_dir, lang, tr, shot, check, login
):
    page = pages.new()
    login(page, "sponsor@example.com")
    page.get_by_role("link", name=tr("Sponsor"), exact=True).click()
    page.get_by_role("link", name=tr("List a new challenge")).click()
    page.wait_for_url("**/challenges/new")
    check(page)
    page.get_by_label(tr("Address (slug)")).fill("container-damage")
    page.get_by_label(tr("Title (English)")).fill("Container damage detection")
    page.get_by_label(tr("Title (Chinese)")).fill("集装箱箱损识别")
    page.get_by_label(tr("Summary (English)")).fill("Find damaged containers in port scans.")
    page.get_by_label(tr("Summary (Chinese)")).fill("从港口扫描中识别受损集装箱。")
    page.get_by_label(tr("Scenario")).select_option("transport")
    page.get_by_label(tr("Description (Markdown)")).fill("## The task\n\nPredict damage.")
    page.get_by_label(tr("Metric"), exact=True).select_option("f1_macro")
    page.get_by_label(tr("Target value")).fill("0.9")
    page.get_by_label(tr("Target: longest run time (s)")).fill("60")
    page.get_by_label(tr("Prize amount")).fill("500000")
    page.get_by_label(tr("Opens"), exact=True).fill("2026-12-01T09:00")
    page.get_by_label(tr("Closes"), exact=True).fill("2026-11-01T09:00")  # before it opens
    page.get_by_label(tr("Training files (public downloads)")).set_input_files(
        bundle_dir / "train.csv"
    )
    page.get_by_label(tr("Test inputs (CSV with an id column; hidden)")).set_input_files(
        bundle_dir / "test.csv"
    )
    page.get_by_label(tr("Test labels (CSV with id and label columns; hidden)")).set_input_files(
        bundle_dir / "labels.csv"
    )
    page.get_by_role("button", name=tr("Save the draft")).click()

    # The mistake is named next to its field, in the page's language.
    closes = page.get_by_label(tr("Closes"), exact=True)
    expect(closes).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#closes_at-error")).to_have_text(
        tr("The challenge must close after it opens.")
    )
    expect(page.get_by_role("alert")).to_contain_text(tr("Please correct the fields marked below."))
    check(page)
    shot(page, "challenge-form-errors", docs="zh")
    closes.fill("2027-03-01T18:00")
    for label, name in (
        ("Training files (public downloads)", "train.csv"),
        ("Test inputs (CSV with an id column; hidden)", "test.csv"),
        ("Test labels (CSV with id and label columns; hidden)", "labels.csv"),
    ):
        page.get_by_label(tr(label)).set_input_files(bundle_dir / name)
    page.get_by_role("button", name=tr("Save the draft")).click()

    # The draft's dashboard; then an edit, and the request for review.
    expect(
        page.get_by_role(
            "heading", name="集装箱箱损识别" if lang == "zh" else "Container damage detection"
        )
    ).to_be_visible()
    expect(page.locator(".status.draft")).to_be_visible()
    page.get_by_role("link", name=tr("Edit"), exact=True).click()
    expect(page.get_by_label(tr("Opens"), exact=True)).to_have_value("2026-12-01T09:00")
    page.get_by_label(tr("Prize amount")).fill("800000")
    page.get_by_role("button", name=tr("Save the draft")).click()
    expect(page.get_by_text(tr("Draft saved."))).to_be_visible()
    check(page)
    shot(page, "sponsor-dashboard")
    page.get_by_role("button", name=tr("Request review")).click()
    expect(page.locator(".status.in_review")).to_be_visible()
    expect(page.get_by_role("link", name=tr("Edit"), exact=True)).to_have_count(0)

    # The public does not see it yet; the administrator previews and publishes it.
    public = pages.new()
    assert public.goto("/challenges/container-damage").status == 404
    admin = pages.new()
    login(admin, "admin@example.com")
    admin.get_by_role("link", name=tr("Administration")).click()
    row = admin.locator("tr", has_text="container-damage")
    expect(row.locator(".status.in_review")).to_be_visible()
    check(admin)
    shot(admin, "admin")
    row.get_by_role("link").first.click()
    expect(admin.get_by_role("note")).to_be_visible()  # the preview banner
    expect(admin.get_by_text("800,000 CNY").first).to_be_visible()
    admin.go_back()
    admin.locator("tr", has_text="container-damage").get_by_role(
        "button", name=tr("Approve and publish")
    ).click()
    # The confirmation page says what publishing does (issue 15, friction 5).
    expect(admin.get_by_role("heading", name=tr("What will happen"))).to_be_visible()
    admin.get_by_role("button", name=tr("Publish the challenge")).click()
    expect(admin.get_by_text(tr("Published."))).to_be_visible()
    public.goto("/")
    title = "集装箱箱损识别" if lang == "zh" else "Container damage detection"
    expect(public.get_by_role("link", name=title)).to_be_visible()
