"""A real browser (Debian's Chromium, driven by Playwright) against `jiebang serve` and
`jiebang worker` (the fixtures of tests/e2e/conftest.py).

No browser is ever downloaded: Playwright launches /usr/bin/chromium. Every page may
load only from the server under test; a request elsewhere or a script error fails
the test. Screenshots go to test-artifacts/screenshots/ (and, with
JIEBANG_DOCS_SCREENSHOTS=1, the README's copies to docs/screenshots/).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

from babel.support import Translations  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("JIEBANG_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCALES = {"en": "en-US", "zh": "zh-CN"}
SHOTS = ROOT / "test-artifacts" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}  # the narrowest phones still common (issue 16)
AXE = ROOT / "tests" / "e2e" / "browser" / "vendor" / "node_modules" / "axe-core" / "axe.min.js"

UNLABELLED = """() => Array.from(document.querySelectorAll(
  'input:not([type=hidden]), select, textarea, button'))
  .filter(el => el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
    && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 80))"""


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real Chromium through Playwright")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install -y chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=["en", "zh"])
def lang(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def catalog():
    return Translations.load(str(ROOT / "web" / "translations"), ["zh"])


@pytest.fixture
def tr(lang, catalog):
    """The words the page shows for an English message, in the story's language."""

    def translate(message: str, **params) -> str:
        text = catalog.gettext(message) if lang == "zh" else message
        return text % params if params else text

    return translate


class Pages:
    """Browser pages on the server under test, in the story's language."""

    def __init__(self, browser, server: str, lang: str) -> None:
        self.browser, self.server, self.lang = browser, server, lang
        self.contexts, self.outside, self.errors = [], [], []

    def new(self, width: int = 1280, **options):
        """A page in a fresh context; ``options`` go to ``new_context`` (``bypass_csp``
        lets a test inject axe-core, which the pages' script-src 'self' would refuse)."""
        context = self.browser.new_context(
            locale=LOCALES[self.lang],
            viewport={"width": width, "height": 900},
            base_url=self.server,
            **options,
        )
        context.set_default_timeout(20_000)
        context.on("request", self._watch)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page

    def _watch(self, request) -> None:
        if not request.url.startswith((self.server, "data:")):
            self.outside.append(request.url)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def _wait_until_up(url: str, timeout: float = 90) -> None:
    """The shared fixture gives the server 10 s; a loaded machine may need longer."""
    import time

    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"jiebang serve did not answer at {url}")


@pytest.fixture
def pages(browser, server, lang):
    _wait_until_up(server)
    opened = Pages(browser, server, lang)
    yield opened
    opened.close()
    assert opened.outside == [], "pages loaded something from another site"
    assert opened.errors == [], "a page's script failed"


@pytest.fixture
def shot(lang):
    """Save a full-page screenshot as a test artifact. ``docs`` names the language in
    which, with JIEBANG_DOCS_SCREENSHOTS=1, the README's small copy is also made."""

    def take(page, name: str, *, docs: str | None = None) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / f"{lang}-{name}.png", full_page=True)
        if docs == lang and os.environ.get("JIEBANG_DOCS_SCREENSHOTS"):
            DOCS.mkdir(parents=True, exist_ok=True)
            size = page.viewport_size
            page.set_viewport_size({"width": 1024, "height": 720})
            page.screenshot(path=DOCS / f"{name}.png")
            page.set_viewport_size(size)

    return take


def check_page(page, *, phone: bool = True) -> None:
    """Every control has a label; at 390px wide nothing needs sideways scrolling."""
    page.wait_for_load_state()
    assert page.evaluate(UNLABELLED) == []
    if phone:
        size = page.viewport_size
        page.set_viewport_size(PHONE)
        width = page.evaluate("document.documentElement.scrollWidth")
        page.set_viewport_size(size)
        assert width <= PHONE["width"], f"{page.url} is {width}px wide on a phone"


def log_in(page, email: str, password: str = "password123") -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture(scope="session")
def digits_bundle(tmp_path_factory) -> Path:
    """The example challenge's bundle (handwritten digits), open from now for 30 days."""
    from web import demo

    return demo.prepare_bundle(tmp_path_factory.mktemp("digits") / "bundle", now=demo.utcnow())


@pytest.fixture
def digits(session, blobs, digits_bundle):
    """The example challenge, published, in the database the server uses."""
    from challenges import service
    from challenges.bundle import open_bundle
    from jiebang import accounts

    org = accounts.create_org(session, slug="example-logistics", name="Example Logistics 示例物流")
    with open_bundle(digits_bundle) as bundle:
        item = service.create_from_bundle(session, bundle=bundle, blobs=blobs)
    service.publish(session, item)
    session.commit()
    item.org = org
    return item


@pytest.fixture(scope="session")
def good_bundle_zip(tmp_path_factory, digits_bundle) -> Path:
    """The example's good model as a code bundle: main.py and its training data."""
    import zipfile

    from web import demo

    main = (demo.example_dir() / "submissions" / "good" / "main.py").read_text()
    path = tmp_path_factory.mktemp("bundles") / "good.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("main.py", main.replace("/app/", "/code/"))
        archive.write(digits_bundle / "train.csv", "train.csv")
    return path


@pytest.fixture
def check():
    return check_page


@pytest.fixture
def login():
    return log_in


@pytest.fixture(scope="session")
def image_archive(tmp_path_factory, digits_bundle, docker_host) -> Path:
    """A real `docker save` archive of the example's good model, built FROM the base image."""
    import sandboxes
    from web import demo

    try:
        client = sandboxes.connect(docker_host)
        client.ping()
    except Exception as exc:  # no engine here: the stories that need one cannot run
        pytest.skip(f"Docker is not available: {exc}")
    workdir = tmp_path_factory.mktemp("images")
    return demo.build_submission_archives(client, digits_bundle, workdir, names=("good",))["good"]


@pytest.fixture
def everyone(world, session, digits):
    """A world with a page for every role: the open example challenge with two scored
    teams (names in Chinese, as users write them), a challenge closed for judging with
    its judge, an awarded one on the hall of winners, a sponsor's draft and an admin."""
    from decimal import Decimal

    from challenges.lifecycle import assign_judge
    from challenges.models import Status
    from jiebang import accounts
    from leaderboards.lifecycle import close_now
    from leaderboards.models import Award

    org = accounts.create_org(session, slug="harbor", name="港务集团 Harbor Group")
    sponsor = world.user("sponsor@example.com", "sponsor", org=org)
    admin = world.user("admin@example.com", "admin")
    judge = world.user("judge@example.com", "judge")
    ada, bo = world.user("ada@example.com"), world.user("bo@example.com")
    ada.name, bo.name = "Ada 阿达", "Bo"
    leader = world.team(digits, ada, name="慧眼")
    second = world.team(digits, bo, name="Baseline 基线")
    mine = world.scored(leader, public=0.97, private=0.96, selected=True)
    world.scored(second, public=0.41, private=0.40)
    world.failed(leader, "run.timeout", failure="timeout", limit_s=30)

    judged = world.challenge(
        slug="berths", sponsor="harbor", title={"en": "Berth planning", "zh": "泊位计划"}
    )
    world.scored(
        world.team(judged, world.user("cy@example.com"), name="潮汐"), public=0.95, private=0.94
    )
    close_now(session, judged)
    assign_judge(session, judged, judge=judge, actor=None)

    won = world.challenge(
        slug="cranes", sponsor="harbor", title={"en": "Crane faults", "zh": "岸桥故障"}
    )
    winners = world.team(won, world.user("di@example.com"), name="起重 Lifters")
    best = world.scored(winners, public=0.99, private=0.98)
    won.status = Status.awarded
    session.add(
        Award(
            challenge_id=won.id,
            status="awarded",
            team_id=winners.id,
            submission_id=best.id,
            score=0.98,
            amount=Decimal(1000),
            currency="CNY",
        )
    )
    world.challenge(
        slug="quay-draft",
        sponsor="harbor",
        publish=False,
        title={"en": "Quay draft", "zh": "码头草稿"},
    )
    session.commit()
    return {
        "digits": digits,
        "judged": judged,
        "won": won,
        "submission": mine,
        "sponsor": sponsor,
        "admin": admin,
        "judge": judge,
        "participant": ada,
    }


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core's one file, installed from the npm registry by scripts/fetch_axe.sh."""
    import shutil
    import subprocess

    if not AXE.exists():
        if shutil.which("npm") is None:
            pytest.skip("axe-core is not installed and npm is missing: run scripts/fetch_axe.sh")
        subprocess.run([str(ROOT / "scripts" / "fetch_axe.sh")], check=True, timeout=300)
    return AXE


def axe_violations(page, script: Path) -> list[str]:
    """axe-core's violations on ``page`` (WCAG 2.x A and AA and best practices), one line
    each: rule, impact and the first offending elements."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(script))
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
          .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3)
            .map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').split('\\n').slice(1, 2))
            .join(' | ')}`)"""
    )
    return [f"{page.url}: {line}" for line in found]


@pytest.fixture
def axe(axe_script):
    """``axe(page)``: axe-core's violations on the page as it is laid out now."""
    return lambda page: axe_violations(page, axe_script)
