"""A team cancels a queued submission in a real browser: the page shows its place in
the queue, the button asks first, and a dismissed question changes nothing."""

from __future__ import annotations

import subprocess
import time

import pytest
import requests
from playwright.sync_api import expect

from evaluator.models import Submission
from tests.e2e.conftest import JIEBANG, _free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(env, tmp_path, redis_conn, stop_gracefully):
    """`jiebang serve` only: no worker takes the submission before the team cancels it."""
    port = _free_port()
    log = (tmp_path / "web.log").open("w")
    proc = subprocess.Popen(
        [*JIEBANG, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/healthz", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    yield url
    try:
        stop_gracefully([(proc, tmp_path / "web.log")])
    finally:
        log.close()


@pytest.fixture
def queued(world, session, digits):
    team = world.team(digits, world.user("ada@example.com"), name="Sharp Eyes 慧眼")
    world._submission(world.team(digits, world.user("bo@example.com")), status="queued")
    sub = world._submission(team, status="queued")
    session.commit()
    return sub


def test_a_team_cancels_a_queued_submission(pages, queued, session, tr, login, check, shot):
    page = pages.new()
    login(page, "ada@example.com")
    page.goto(f"/submissions/{queued.id}")
    expect(page.locator("#queue-place")).to_contain_text("1")  # one submission ahead
    check(page)
    button = page.get_by_role("button", name=tr("Cancel this queued submission"))
    # Dismissed: nothing happens.
    page.once("dialog", lambda dialog: dialog.dismiss())
    button.click()
    page.wait_for_timeout(300)
    session.expire_all()
    assert session.get(Submission, queued.id).status == "queued"
    # Accepted: cancelled, with the reason on the page and no button any more.
    page.once("dialog", lambda dialog: dialog.accept())
    button.click()
    expect(
        page.get_by_text(
            tr(
                "Submission %(id)s was cancelled; it does not count against your quota.",
                id=queued.id,
            )
        )
    ).to_be_visible()
    expect(page.get_by_role("button", name=tr("Cancel this queued submission"))).to_have_count(0)
    shot(page, "submission-cancelled")
    session.expire_all()
    assert session.get(Submission, queued.id).status == "cancelled"
