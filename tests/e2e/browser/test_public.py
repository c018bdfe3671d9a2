"""The public: browse by scenario, search in both languages, read a challenge, see its board."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def board(world, session, digits):
    """Two teams with scores on the public board."""
    leader = world.team(digits, world.user("ada@example.com"), name="Sharp Eyes 慧眼")
    second = world.team(digits, world.user("bo@example.com"), name="Baseline 基线")
    world.scored(leader, public=0.97, private=0.96)
    world.scored(second, public=0.35, private=0.36)
    world.scored(second, public=0.41, private=0.40)
    session.commit()
    return digits


def test_the_public_browses_and_sees_a_board(pages, board, lang, tr, shot, check):
    page = pages.new()
    title = board.title(lang)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh" else "en")
    expect(page.get_by_role("heading", name=tr("Open now"))).to_be_visible()
    expect(page.get_by_role("link", name=title)).to_be_visible()
    check(page)
    shot(page, "home", docs="en")

    # Search in the other language than the page's: titles and summaries of both count.
    page.get_by_label(tr("Search"), exact=True).fill("邮政" if lang == "en" else "postcode")
    page.get_by_role("button", name=tr("Search")).click()
    expect(page.get_by_role("link", name=title)).to_be_visible()
    page.get_by_label(tr("Search"), exact=True).fill("no such challenge")
    page.get_by_role("button", name=tr("Search")).click()
    expect(page.get_by_text(tr("No open challenge matches."))).to_be_visible()

    # Browse by scenario group, then sector.
    page.get_by_role("link", name=tr("Scenarios"), exact=True).first.click()
    group = "高端高效智能经济" if lang == "zh" else "High-end, efficient intelligent economy"
    page.get_by_role("link", name=group).first.click()
    page.get_by_role("link", name="物流" if lang == "zh" else "Logistics").first.click()
    expect(page.get_by_role("link", name=title)).to_be_visible()
    check(page)
    page.get_by_role("link", name=title).click()

    # The challenge: overview, a live countdown, data, rules, the board.
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    countdown = page.locator("time[data-countdown]").first
    before = countdown.text_content()
    page.wait_for_timeout(1100)
    assert countdown.text_content() != before, "the countdown should tick"
    check(page)
    shot(page, "challenge", docs="zh")
    tabs = page.get_by_role("navigation", name=tr("Challenge sections"))
    tabs.get_by_role("link", name=tr("Data")).click()
    download = page.get_by_role("link", name="train.csv")
    with page.expect_download() as got:
        download.click()
    assert got.value.suggested_filename == "train.csv"
    assert page.get_by_role("link", name="test.csv").count() == 0
    tabs.get_by_role("link", name=tr("Rules")).click()
    expect(page.get_by_text("(f1_macro) ≥ 0.95")).to_be_visible()
    expect(page.get_by_text("100,000 CNY").first).to_be_visible()
    check(page)
    tabs.get_by_role("link", name=tr("Leaderboard")).click()
    rows = page.locator("table.board tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Sharp Eyes 慧眼")
    expect(rows.nth(0)).to_contain_text("0.9700")
    expect(rows.nth(1)).to_contain_text("0.4100")
    expect(page.get_by_role("heading", name=tr("Private leaderboard"))).to_have_count(0)
    check(page)
    shot(page, "leaderboard")

    # The other language, switched by the link in the header; the choice sticks.
    other = "English" if lang == "zh" else "中文"
    page.get_by_role("link", name=other).click()
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "zh" else "zh-CN")
    page.goto("/winners")
    expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "zh" else "zh-CN")
