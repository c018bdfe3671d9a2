"""A judge re-runs the provisional winner, sees it reproduce, and approves the award."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.docker]


@pytest.fixture
def judging(world, session, blobs, settings, redis_conn, digits, good_bundle_zip, server):
    """A closed challenge under judgment: a real scored submission on top, a judge."""
    from challenges.lifecycle import assign_judge
    from evaluator.intake import submit_and_enqueue
    from evaluator.models import Submission
    from leaderboards.lifecycle import close_now

    ada = world.user("ada@example.com")
    world.team(digits, ada, name="Sharp Eyes 慧眼")
    runner_up = world.team(digits, world.user("bo@example.com"), name="Baseline 基线")
    world.scored(runner_up, public=0.35, private=0.36)
    judge = world.user("judge@example.com", "judge")
    assign_judge(session, digits, judge=judge, actor=None)
    session.commit()
    with open(good_bundle_zip, "rb") as upload:
        sub = submit_and_enqueue(
            session,
            redis=redis_conn,
            user=ada,
            challenge=digits,
            upload=upload,
            kind="bundle",
            blobs=blobs,
            settings=settings,
        )
    deadline = time.monotonic() + 180
    while session.get(Submission, sub.id).status != "scored":
        assert time.monotonic() < deadline, "the worker did not score the submission"
        time.sleep(0.5)
        session.expire_all()
    close_now(session, digits)
    session.commit()
    assert digits.status == "judging"
    return digits


def test_a_judge_reruns_and_approves_the_winner(pages, judging, lang, tr, shot, check, login):
    page = pages.new()
    login(page, "judge@example.com")
    page.get_by_role("link", name=tr("Judging"), exact=True).click()
    expect(page.get_by_text(tr("your verdict is needed"))).to_be_visible()
    page.get_by_role("link", name=judging.title(lang)).click()
    rows = page.locator("table.board tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Sharp Eyes 慧眼")
    expect(page.get_by_role("heading", name=tr("Provisional winner"))).to_be_visible()
    check(page)

    # Approval needs a reproducing re-run first.
    page.get_by_label(tr("Approve: award the prize")).check()
    page.get_by_role("button", name=tr("Record the verdict")).click()
    # The confirmation page says what the verdict does; the same button records it.
    expect(page.get_by_role("heading", name=tr("What will happen"))).to_be_visible()
    page.get_by_role("button", name=tr("Record the verdict")).click()
    expect(page.get_by_role("alert")).to_contain_text(
        tr("Re-run the submission and wait until it reproduces before approving.")
    )
    page.get_by_role("button", name=tr("Re-run the submission")).click()
    expect(
        page.get_by_text(tr("Re-run queued. This page shows its result when it is done."))
    ).to_be_visible()
    expect(page.locator("#reproduces")).to_contain_text(tr("yes"), timeout=180_000)
    check(page)
    shot(page, "judge", docs="en")

    page.get_by_label(tr("Approve: award the prize")).check()
    page.get_by_label(tr("Reason")).fill("Re-run reproduces; code reviewed.")
    page.get_by_role("button", name=tr("Record the verdict")).click()
    # The confirmation page says what the verdict does; the same button records it.
    expect(page.get_by_role("heading", name=tr("What will happen"))).to_be_visible()
    page.get_by_role("button", name=tr("Record the verdict")).click()
    expect(page.get_by_text(tr("Verdict recorded."))).to_be_visible()
    expect(page.locator(".award")).to_contain_text("Sharp Eyes 慧眼")
    expect(page.locator("table.board").last).to_contain_text("Re-run reproduces; code reviewed.")

    # Everyone now sees the award, the private board and the hall of winners.
    public = pages.new()
    public.goto(f"/challenges/{judging.slug}/leaderboard")
    expect(public.get_by_role("heading", name=tr("Private leaderboard"))).to_be_visible()
    expect(public.locator(".award")).to_contain_text("100,000")
    public.get_by_role("link", name=tr("Winners"), exact=True).click()
    expect(public.locator("table.board tbody tr").first).to_contain_text("Sharp Eyes 慧眼")
    check(public)
    shot(public, "winners")
