"""axe-core on every page of every role, on a desktop (1280 px) and a phone (360 px), in
both languages (issue 16): no violation of WCAG 2.x A/AA or of axe's best practices."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (1280, 360)


def _pages_of(world: dict) -> dict[str | None, list[str]]:
    """The paths each role reads (None: a visitor who has not signed in)."""
    digits, judged, won = world["digits"], world["judged"], world["won"]
    challenge = f"/challenges/{digits.slug}"
    return {
        None: [
            "/",
            "/scenarios",
            "/scenarios/logistics",
            "/winners",
            challenge,
            f"{challenge}/data",
            f"{challenge}/rules",
            f"{challenge}/leaderboard",
            f"/challenges/{won.slug}/leaderboard",
            "/login",
            "/register",
            "/no-such-page",
        ],
        "ada@example.com": [
            f"{challenge}/team",
            "/submissions",
            f"/submissions/{world['submission'].id}",
            "/profile",
            "/sponsor",  # the way to become a sponsor
            "/organization",
            "/organization/new",
        ],
        "sponsor@example.com": [
            "/sponsor",
            "/sponsor/challenges/new",
            f"/sponsor/challenges/{judged.slug}",
            "/sponsor/challenges/quay-draft/edit",
            "/organization",
        ],
        "judge@example.com": ["/judge", f"/judge/{judged.slug}"],
        "admin@example.com": ["/admin", f"/sponsor/challenges/{won.slug}", "/admin/orgs"],
    }


@pytest.mark.parametrize(
    "role",
    [None, "ada@example.com", "sponsor@example.com", "judge@example.com", "admin@example.com"],
    ids=["public", "participant", "sponsor", "judge", "admin"],
)
def test_every_page_passes_axe_on_desktop_and_phone(pages, everyone, role, axe, login):
    page = pages.new(bypass_csp=True)
    if role:
        login(page, role)
    found: list[str] = []
    for path in _pages_of(everyone)[role]:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(path)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            found += [f"{width}px {line}" for line in axe(page)]
    assert found == [], "\n".join(found)
