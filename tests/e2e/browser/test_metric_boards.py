"""A challenge scored by a program shows every declared metric: the detection example's
leaderboard and a submission's page, in English and in Chinese, on a desktop and on a
360 px phone.

The board's rows are written as the worker leaves them (tests/e2e/test_tasks.py runs the
real thing); their numbers are chosen so that each metric would order them differently.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from web import demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DAMAGE = demo.EXAMPLES[2]
NARROW = {"width": 360, "height": 740}
TITLES = {
    "en": ["mAP@0.5", "mAP@0.5:0.95", "Recall (AR@100)"],
    "zh": ["平均精度 mAP@0.5", "平均精度 mAP@0.5:0.95", "召回率 (AR@100)"],
}
# By map50 (the ranking metric): Port Eyes, Sharp, Weak. By map, Sharp would lead; by
# recall, Weak. Targets: map50 >= 0.6 and recall >= 0.5: only Port Eyes meets both.
ROWS = [
    ("Port Eyes 港眼", {"map50": 0.8214, "map": 0.4105, "recall": 0.5521}),
    ("Sharp 锐眼", {"map50": 0.6350, "map": 0.4702, "recall": 0.4803}),
    ("Weak Signal 弱信号", {"map50": 0.3511, "map": 0.1208, "recall": 0.9006}),
]


@pytest.fixture(scope="session")
def damage_bundle(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("damage") / "bundle"
    return demo.prepare_bundle(root, now=demo.utcnow(), example=DAMAGE)


@pytest.fixture
def damage(session, blobs, world, damage_bundle):
    """The detection example, published, with three scored teams; the first one's
    submission id."""
    from challenges import service
    from challenges.bundle import open_bundle
    from evaluator import standings
    from evaluator.models import Submission
    from jiebang import accounts

    org = accounts.create_org(session, slug="example-logistics", name="Example Logistics 示例物流")
    world.user("sponsor@example.com", "sponsor", org=org)
    with open_bundle(damage_bundle) as bundle:
        item = service.create_from_bundle(session, bundle=bundle, blobs=blobs)
    service.publish(session, item)
    first = None
    for n, (name, metrics) in enumerate(ROWS):
        user = world.user(f"team{n}@example.com")
        team = world.team(item, user, name=name)
        sub = Submission(
            challenge_id=item.id,
            team_id=team.id,
            user_id=user.id,
            kind="image",
            blob_sha256="0" * 64,
            size=1,
            status="scored",
            public_score=metrics["map50"],
            private_score=metrics["map50"] - 0.01,
            public_metrics=metrics,
            private_metrics={k: v - 0.01 for k, v in metrics.items()},
            runtime_s=4.2,
            peak_memory_mb=180.0,
            created_at=demo.utcnow() - dt.timedelta(minutes=10 - n),
        )
        session.add(sub)
        session.flush()
        standings.note_scored(session, sub)
        first = first or sub.id
    session.commit()
    return first


def _headers(page) -> list[str]:
    return [t.strip() for t in page.locator("table.board thead th").all_text_contents()]


def _shoot(page, tmp_path: Path, name: str) -> None:
    """A full-page screenshot in the test's own folder, to look at."""
    page.screenshot(path=tmp_path / f"{name}.png", full_page=True)


def _board_in(page, lang: str) -> None:
    """The public board in ``lang``: a column per metric, by title; rows in map50 order."""
    titles = TITLES[lang]
    headers = _headers(page)
    assert [h for h in headers if h in titles] == titles, headers
    # The ranking metric's title heads the score column and names the caption.
    expect(page.locator("table.board caption")).to_contain_text(titles[0])
    rows = page.locator("table.board tbody tr")
    expect(rows).to_have_count(len(ROWS))
    for n, (team, metrics) in enumerate(ROWS):
        cells = [c.strip() for c in rows.nth(n).locator("td").all_text_contents()]
        assert cells[0] == str(n + 1) and cells[1] == team, cells
        for title, name in zip(titles, ("map50", "map", "recall"), strict=True):
            assert cells[headers.index(title)] == f"{metrics[name]:.4f}", (team, title, cells)
    # Figures line up on the right (a board's own cell rule used to win over .num).
    align = "e => getComputedStyle(e).textAlign"
    assert rows.first.locator("td.num").nth(1).evaluate(align) == "right"
    meets = rows.locator(".yes")
    expect(meets).to_have_count(1)
    expect(rows.nth(0).locator(".yes")).to_have_count(1)


def _fits(page, width: int) -> None:
    size = page.viewport_size
    page.set_viewport_size({"width": width, "height": NARROW["height"]})
    scroll = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(size)
    assert scroll <= width, f"{page.url} is {scroll}px wide at {width}px"


def test_the_detection_board_shows_every_metric(pages, damage, lang, tr, check, login, tmp_path):
    page = pages.new()
    page.goto(f"/challenges/{DAMAGE.slug}/leaderboard")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if lang == "zh" else "en")
    _board_in(page, lang)
    assert all(tr(word) in _headers(page) for word in ("Rank", "Team", "Meets targets"))
    check(page)
    _shoot(page, tmp_path, f"{lang}-metric-board")

    # A phone 360 px wide: the extra metric columns give way, the ranking one stays,
    # and nothing needs sideways scrolling.
    page.set_viewport_size(NARROW)
    first, *others = TITLES[lang]
    for title in others:
        expect(page.locator("table.board th", has_text=title)).to_be_hidden()
    expect(page.locator("table.board thead th.num").filter(has_text=first).first).to_be_visible()
    expect(page.locator("table.board td.wide-only").first).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    _shoot(page, tmp_path, f"{lang}-metric-board-360")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The header's language switch: the same board in the other language.
    other = "en" if lang == "zh" else "zh"
    page.get_by_role("link", name="English" if lang == "zh" else "中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if other == "zh" else "en")
    _board_in(page, other)

    # The team's submission page: its metrics table, the ranking one starred.
    team = pages.new()
    login(team, "team0@example.com")
    team.goto(f"/submissions/{damage}")
    table = team.locator("table.metrics")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    metrics = ROWS[0][1]
    for n, (title, name) in enumerate(zip(TITLES[lang], ("map50", "map", "recall"), strict=True)):
        expect(rows.nth(n).locator("th")).to_have_text(title + (" ★" if n == 0 else ""))
        expect(rows.nth(n).locator("td").first).to_have_text(f"{metrics[name]:.4f}")
    expect(table.locator("thead th")).to_have_text([tr("Metric"), tr("Public")])  # open: no private
    assert rows.first.locator("th").evaluate("e => getComputedStyle(e).textAlign") == "left"
    assert rows.first.locator("td").evaluate("e => getComputedStyle(e).textAlign") == "right"
    check(team)
    _fits(team, NARROW["width"])
    _shoot(team, tmp_path, f"{lang}-metric-submission")
    team.set_viewport_size(NARROW)
    _shoot(team, tmp_path, f"{lang}-metric-submission-360")

    # The team page charts progress by the declared metric (it was a 500: get_metric
    # knew only the built-in metrics); the sponsor's dashboard has the same board.
    assert team.goto(f"/challenges/{DAMAGE.slug}/team").status == 200
    expect(team.locator("svg.chart circle.team").first).to_be_attached()
    sponsor = pages.new()
    login(sponsor, "sponsor@example.com")
    assert sponsor.goto(f"/sponsor/challenges/{DAMAGE.slug}").status == 200
    _board_in(sponsor, lang)
    check(sponsor)
    _shoot(sponsor, tmp_path, f"{lang}-metric-dashboard")
