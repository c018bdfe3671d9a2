"""A participant signs up, forms a team, uploads a real submission and watches it score.

In English the upload is a real `docker save` image archive of the example's model;
in Chinese, the same model as a code bundle. A real worker runs both in Docker.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.docker]


def _junk_zip(tmp_path):
    path = tmp_path / "not-an-image.tar"
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("main.py", "print('hi')\n")
    path.write_bytes(data.getvalue())
    return path


SIGNED_UP = (
    "Welcome to Jiebang! Sign in with your email and password. (If this address had "
    "an account already, nothing was changed: sign in with its password.)"
)


def test_a_participant_takes_part_and_watches_a_submission_score(
    pages, digits, lang, tr, shot, check, request, tmp_path
):
    kind, upload = (
        ("image", request.getfixturevalue("image_archive"))
        if lang == "en"
        else ("bundle", request.getfixturevalue("good_bundle_zip"))
    )
    page = pages.new()
    page.goto(f"/challenges/{digits.slug}")
    page.get_by_role("link", name=tr("Sign up")).last.click()
    page.wait_for_url("**/register**")
    check(page)
    page.get_by_label(tr("Display name")).fill("Ada 阿达")
    page.get_by_label(tr("Email")).fill("ada@example.com")
    page.get_by_label(tr("Password"), exact=True).fill("password123")
    page.get_by_label(tr("Repeat password")).fill("password123")
    page.get_by_role("button", name=tr("Sign up")).click()
    # Sign-up says the same whether the address was free or not: sign in next.
    page.wait_for_url("**/login**")
    expect(page.get_by_text(tr(SIGNED_UP))).to_be_visible()
    page.get_by_label(tr("Email")).fill("ada@example.com")
    page.get_by_label(tr("Password"), exact=True).fill("password123")
    page.get_by_role("button", name=tr("Log in")).click()

    # Back on the challenge's My team tab: form a team.
    expect(page.get_by_role("heading", name=tr("Create a team"))).to_be_visible()
    check(page)
    page.get_by_label(tr("Team name")).fill("Sharp Eyes 慧眼")
    page.get_by_role("button", name=tr("Create a team")).click()
    expect(
        page.get_by_role("heading", name=tr("Team %(name)s", name="Sharp Eyes 慧眼"))
    ).to_be_visible()
    assert page.locator("aside code").text_content().strip()  # the join code

    # A wrong file is refused on the page, with the reason, without leaving it.
    page.get_by_label(tr("Image archive (docker save)")).check()
    page.get_by_label(tr("File"), exact=True).set_input_files(_junk_zip(tmp_path))
    page.get_by_role("button", name=tr("Submit"), exact=True).click()
    error = page.locator(".upload-error")
    expect(error).to_be_visible()
    assert error.text_content().strip()
    assert page.url.endswith("/team")

    # The real upload, with a progress bar, then the submission's page.
    label = "Image archive (docker save)" if kind == "image" else "Code bundle (zip)"
    page.get_by_label(tr(label)).check()
    page.get_by_label(tr("File"), exact=True).set_input_files(upload)
    page.get_by_label(tr("Note (optional)")).fill("first try")
    page.get_by_role("button", name=tr("Submit"), exact=True).click()
    expect(page.locator("progress")).to_be_visible()
    page.wait_for_url("**/submissions/*", timeout=180_000)
    expect(
        page.get_by_text(tr("Submission received; it is queued for evaluation."))
    ).to_be_visible()
    shot(page, "submission-live")

    # The team page follows the submission live, without reloading, until it is scored.
    page.goto(f"/challenges/{digits.slug}/team")
    page.evaluate("window.__stayed = true")
    status = page.locator("table.board tbody tr").first.locator("[data-field=status]")
    expect(status).to_have_text(tr("scored"), timeout=240_000)
    assert page.evaluate("window.__stayed === true"), "the page should update in place"
    score = page.locator("table.board tbody tr").first.locator("[data-field=public_score]")
    assert float(score.text_content()) > 0.9

    # The submission page shows the result; the chart the team against the board.
    page.locator("table.board tbody tr").first.get_by_role("link").first.click()
    # The team page has a status field too: wait for the submission page itself.
    page.wait_for_url("**/submissions/*")
    expect(page.locator("[data-field=status]")).to_have_text(tr("scored"))
    expect(page.get_by_text(tr("Run time"))).to_be_visible()
    expect(page.locator("pre.log")).to_contain_text("predicted")
    check(page)
    shot(page, "submission")
    page.goto(f"/challenges/{digits.slug}/team")
    expect(page.locator("svg.chart.wide circle.team")).to_have_count(1)
    page.get_by_role("button", name="☆ " + tr("select")).click()
    expect(page.get_by_role("button", name="★ " + tr("selected"))).to_be_visible()
    check(page)
    shot(page, "team", docs="en")
    page.goto(f"/challenges/{digits.slug}/leaderboard")
    expect(page.locator("table.board tbody tr.mine")).to_contain_text("Sharp Eyes 慧眼")
