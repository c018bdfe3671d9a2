"""A participant finds the way to become a sponsor from the home page, registers an
applicant organization (a mistyped credit code is named), an administrator asks for a
change with a note, the participant corrects it and the administrator verifies it. Both
languages; every page has labelled controls and fits a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HUAWEI = "914403001922038216"


@pytest.fixture
def people(world, session, server):
    world.user("p@example.com")
    world.user("admin@example.com", "admin")
    session.commit()


def test_a_participant_registers_an_organization_and_finds_the_sponsor_path(
    pages, people, lang, tr, check, login
):
    page = pages.new()
    page.goto("/")
    page.get_by_role("link", name=tr("Become a sponsor")).first.click()
    page.wait_for_url(lambda url: "/login" in url)  # the anonymous log in first
    page.fill("#email", "p@example.com")
    page.fill("#password", "password123")
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/sponsor"))
    expect(page.get_by_role("heading", name=tr("Request a sponsor organization"))).to_be_visible()
    check(page)

    page.get_by_role("link", name=tr("My organization")).first.click()
    page.get_by_role("link", name=tr("Register an applicant organization")).click()
    page.get_by_label(tr("Legal name in Chinese")).fill("华为技术有限公司")
    page.get_by_label(tr("Legal name in English")).fill("Huawei Technologies")
    page.get_by_label(tr("Unified social credit code")).fill("914403001922038217")
    page.get_by_role("button", name=tr("Register"), exact=True).click()
    expect(
        page.get_by_text(
            tr(
                "The last character (the check character) does not match the others; look "
                "for a mistyped character."
            )
        )
    ).to_be_visible()
    check(page)
    page.get_by_label(tr("Unified social credit code")).fill(HUAWEI)
    page.get_by_role("button", name=tr("Register"), exact=True).click()
    expect(page.locator("#verification")).to_contain_text(tr("waiting for an administrator"))
    expect(page.locator("h1")).to_have_text(
        "华为技术有限公司" if lang == "zh" else "Huawei Technologies"
    )
    check(page)

    admin = pages.new()
    login(admin, "admin@example.com")
    admin.goto("/admin/orgs")
    check(admin)
    admin.get_by_label(tr("Note (needed to refuse or request changes)")).first.fill(
        "Use the full English name."
    )
    admin.get_by_role("button", name=tr("Request changes")).first.click()
    expect(admin.get_by_text("Use the full English name.")).to_be_visible()

    page.reload()
    expect(page.get_by_text("Use the full English name.")).to_be_visible()
    page.get_by_label(tr("Legal name in English")).fill("Huawei Technologies Co., Ltd.")
    page.get_by_role("button", name=tr("Submit for verification")).click()
    expect(page.locator("#verification")).to_contain_text(tr("waiting for an administrator"))

    admin.reload()
    admin.get_by_role("button", name=tr("Verify"), exact=True).first.click()
    page.reload()
    expect(page.locator("#verification")).to_contain_text(tr("verified"))
