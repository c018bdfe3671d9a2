"""A guard against English left on Chinese pages (issue 15, friction 2): every page each
role sees, requested in Chinese, is crawled and any run of three English words outside
code, scripts and user content is reported. Adding an untranslated string fails here."""

import re
from html.parser import HTMLParser

import pytest

from challenges import lifecycle
from web.challenge_form import ZONES

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}

# Runs of three or more words of two or more ASCII letters: an English phrase.
# A path, a file name or a slug (a/b, x.csv, a-b) is a name, not a word.
ENGLISH = re.compile(r"(?<![\w/.-])[A-Za-z]{2,}(?:[ ,;:'’()]+[A-Za-z]{2,}(?![\w/.-])){2,}")
EMAIL = re.compile(r"\S+@\S+")
# Elements whose text is not ours to translate: code, data for scripts, user content.
SKIPPED = {"code", "pre", "script", "style", "kbd", "samp", "svg"}
USER_CONTENT = {"markdown", "user"}  # classes of elements that hold what users wrote


class _Text(HTMLParser):
    """The page's visible text and its attributes meant for people (title, alt,
    aria-label, placeholder), outside the skipped elements."""

    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skip = (self.stack and self.stack[-1]) or tag in SKIPPED
        skip = skip or bool(USER_CONTENT & set((attrs.get("class") or "").split()))
        skip = skip or attrs.get("lang") == "en"
        if not skip:
            for name in ("title", "alt", "aria-label", "placeholder"):
                if attrs.get(name):
                    self.parts.append(attrs[name])
        if tag not in self.VOID:
            self.stack.append(bool(skip))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def english_left(html: str, allowed: set[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = EMAIL.sub(" ", " ".join(parser.parts))
    for phrase in sorted(allowed, key=len, reverse=True):
        text = text.replace(phrase, " ")
    return sorted(set(ENGLISH.findall(text)))


# What users wrote (names, titles, descriptions) and names that stay as they are.
ALLOWED = {
    "Parity",
    "Test challenge",
    "Predict x mod 2.",
    "Predict parity.",
    "Alpha Team",
    "Acme",
    "docker save",
    "jiebang submit",
    "jiebang check",
    "runc",
    "runsc",
    "gVisor",
    *(zone.replace("_", " ") for zone in ZONES),
}


@pytest.fixture
def cast(world, session, published):
    alice = world.user("alice@example.com")
    team = world.team(published, alice, name="Alpha Team")
    sub = world.scored(team, public=0.9, private=0.8)
    failed = world.failed(team, "run.timeout", failure="timeout", limit_s=30)
    judge = world.user("judge@example.com", "judge")
    admin = world.user("admin@example.com", "admin")
    sponsor = world.user("sponsor@example.com", "sponsor", org=world.org("acme"))
    lifecycle.assign_judge(session, published, judge=judge, actor=admin)
    session.commit()
    return {
        "users": {"alice": alice, "judge": judge, "admin": admin, "sponsor": sponsor},
        "sub": sub,
        "failed": failed,
    }


def _login(app, user):
    client = app.test_client()
    if user is not None:
        with client.session_transaction() as cookie:
            cookie["_user_id"] = user.get_id()
            cookie["_fresh"] = True
    return client


PUBLIC = [
    "/",
    "/challenges/parity",
    "/challenges/parity/data",
    "/challenges/parity/rules",
    "/challenges/parity/leaderboard",
    "/winners",
    "/scenarios",
    "/login",
    "/register",
]


def _pages(cast):
    sub, failed = cast["sub"].id, cast["failed"].id
    return {
        None: PUBLIC,
        "alice": [
            "/challenges/parity/team",
            "/submissions",
            f"/submissions/{sub}",
            f"/submissions/{failed}",
            "/profile",
        ],
        "sponsor": ["/sponsor", "/sponsor/challenges/parity", "/sponsor/challenges/new"],
        "judge": ["/judge", "/judge/parity"],
        "admin": ["/admin", "/sponsor/challenges/parity"],
    }


def test_the_guard_finds_english():
    html = "<p>Upload your file now</p><code>jiebang submit parity x</code><p>团队 ok</p>"
    assert english_left(html, set()) == ["Upload your file now"]
    assert english_left('<div class="markdown">Some user text here</div>', set()) == []


def test_no_english_is_left_on_chinese_pages(app, cast):
    found = {}
    for who, urls in _pages(cast).items():
        client = _login(app, cast["users"].get(who))
        for url in urls:
            response = client.get(url, headers=ZH, follow_redirects=True)
            assert response.status_code == 200, (who, url, response.status_code)
            left = english_left(response.get_data(as_text=True), ALLOWED)
            if left:
                found[f"{who or 'visitor'} {url}"] = left
    assert not found, "\n".join(f"{page}: {left}" for page, left in found.items())


def test_form_errors_are_chinese(client, world, session):
    """WTForms' own messages ("This field is required.") come in the reader's language."""
    response = client.post(
        "/register", data={"name": "", "email": "x", "password": "short"}, headers=ZH
    )
    page = response.get_data(as_text=True)
    assert "This field is required" not in page and "Field must be" not in page
    assert not english_left(page, ALLOWED), english_left(page, ALLOWED)
