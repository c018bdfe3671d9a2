"""Notifications in a real browser: the count in the menu, the list, marking read, the
settings (every control labelled, nothing wider than a phone)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jiebang import notifications
from jiebang.notifications import notify

pytestmark = [pytest.mark.browser]

PARAMS = {"challenge": {"en": "Parity check", "zh": "奇偶校验"}, "slug": "parity"}


def test_a_user_reads_notifications_and_chooses_what_to_receive(
    pages, world, session, tr, lang, login, check, shot
):
    user = world.user("ada@example.com")
    notify(session, kind="challenge.closed", user_ids=[user.id], params=PARAMS, link="/")
    notify(session, kind="challenge.unclaimed", user_ids=[user.id], params=PARAMS)
    session.commit()
    page = pages.new()
    login(page, "ada@example.com")
    menu = page.get_by_role("navigation").get_by_role("link", name=tr("Notifications"))
    expect(menu).to_contain_text("2")
    menu.click()
    title = "奇偶校验" if lang == "zh" else "Parity check"
    expect(page.locator("main")).to_contain_text(tr("Closed: %(challenge)s", challenge=title))
    check(page)
    shot(page, "notifications")
    page.get_by_role("button", name=tr("Mark all read")).click()
    expect(page.locator(".notification.unread")).to_have_count(0)
    expect(page.get_by_role("navigation").locator(".badge")).to_have_count(0)
    page.get_by_role("link", name=tr("Notification settings")).click()
    check(page)
    label = tr("%(kind)s by email", kind=tr("A challenge is closed"))
    page.get_by_label(label).select_option("digest")
    page.get_by_role("button", name=tr("Save")).click()
    expect(page.locator(".flash")).to_contain_text(tr("Your notification settings are saved."))
    session.expire_all()
    assert notifications.preferences(session, user.id)["challenge.closed"].email.value == "digest"
