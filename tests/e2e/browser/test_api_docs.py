"""The API reference: Swagger UI, served from this site only, renders the operations."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("lang", ["en"])
def test_the_api_reference_renders_from_our_own_files(pages, lang):
    page = pages.new()
    refused = []
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if msg.type == "error" else None,
    )
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.goto("/")
    page.get_by_role("link", name="API reference").click()
    expect(page).to_have_url(f"{pages.server}/api/v1/docs")
    expect(page.get_by_role("heading", name="Jiebang API")).to_be_visible()
    # The operations of the OpenAPI document, grouped by tag.
    cancel = page.locator(
        ".opblock-summary-path", has_text="/api/v1/submissions/{submission_id}/cancel"
    )
    expect(cancel).to_be_visible()
    expect(page.locator(".opblock-tag", has_text="submissions")).to_be_visible()
    cancel.click()
    expect(page.get_by_text("Cancel a submission still waiting in the queue").first).to_be_visible()
    assert missing == [], missing
    assert refused == [], refused  # a Content-Security-Policy refusal is logged as an error
    # (pages checks that nothing came from another site and no script failed)
