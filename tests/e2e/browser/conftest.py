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

    def new(self, width: int = 1280):
        context = self.browser.new_context(
            locale=LOCALES[self.lang],
            viewport={"width": width, "height": 900},
            base_url=self.server,
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
