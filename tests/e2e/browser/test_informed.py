"""Teams stay informed (issue 15), in a real browser, with mail through a real SMTP server.

One story against `jiebang serve` and a `jiebang worker` that sends the mail to a local
aiosmtpd server (STARTTLS, AUTH): the sponsor announces in both languages and tells the
teams; a participant asks in the Chinese interface and the sponsor answers publicly; the
sponsor extends the deadline with a reason. Each member sees it on the challenge's pages
and under Notifications and gets the mail in their own language. Then the worker stops
(as when it is busy with a long run), the participant, switched to English, submits twice,
sees the second one's place in the queue and cancels it; the quota is not spent.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from evaluator.models import Submission
from tests.e2e.browser.conftest import SHOTS
from tests.e2e.conftest import JIEBANG, _free_port
from tests.web.test_mail_delivery import PASSWORD, USER, SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = {"en": "Extra validation images", "zh": "新增验证图片"}
BODY = {"en": "We added 200 images to the data tab.", "zh": "数据页新增了 200 张图片。"}
QUESTION = "测试集里的图片和训练集的尺寸一样吗？"
ANSWER = "Yes: every image is 8 by 8 pixels. 是的，都是 8×8 像素。"
REASON = "More time for the new images 新数据需要更多时间"


@pytest.fixture
def lang() -> str:
    """The language the browsers start in; the story switches to English on the way."""
    return "zh"


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def env(env, smtp):
    """The e2e processes' settings, with the local SMTP server for the worker's mail."""
    return dict(
        env,
        JIEBANG_SMTP_HOST="127.0.0.1",
        JIEBANG_SMTP_PORT=str(smtp.port),
        JIEBANG_SMTP_USER=USER,
        JIEBANG_SMTP_PASSWORD=PASSWORD,
        JIEBANG_SMTP_STARTTLS="true",
        JIEBANG_SMTP_CA_FILE=str(smtp.cert),
        JIEBANG_PUBLIC_URL="https://jiebang.example",
    )


@pytest.fixture
def running() -> dict:
    return {}


@pytest.fixture
def server(env, tmp_path, redis_conn, stop_gracefully, running):
    """`jiebang serve` and `jiebang worker`; the story may stop the worker (``running``)."""
    port = _free_port()
    for name, command in (("web", ["serve", "--port", str(port)]), ("worker", ["worker"])):
        log = tmp_path / f"{name}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [*JIEBANG, *command], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        running[name] = (proc, log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/healthz", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    yield url
    stop_gracefully(list(running.values()))


@pytest.fixture
def people(world, session, digits):
    from jiebang import notifications

    sponsor = world.user("sponsor@example.com", "sponsor", org=digits.org)
    ada, bo = world.user("ada@example.com"), world.user("bo@example.com")
    ada.name = "Ada 阿达"
    world.team(digits, ada, name="慧眼 Sharp Eyes")
    world.team(digits, bo, name="Baseline")
    notifications.set_language(session, user_id=bo.id, language="en")
    session.commit()
    return {"sponsor": sponsor, "ada": ada, "bo": bo}


@pytest.fixture
def words(catalog):
    """``words[lang](message, **params)``: what a page in that language shows."""

    def zh(message: str, **params) -> str:
        text = catalog.gettext(message)
        return text % params if params else text

    def en(message: str, **params) -> str:
        return message % params if params else message

    return {"zh": zh, "en": en}


def _mail(smtp, to: str, subject: str, timeout: float = 60):
    """The first message to ``to`` whose subject holds ``subject``, waiting for the worker."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in list(smtp.inbox.messages):
            if message["To"].addresses[0].addr_spec == to and subject in message["Subject"]:
                return message
        time.sleep(0.3)
    seen = [(str(m["To"]), str(m["Subject"])) for m in smtp.inbox.messages]
    raise AssertionError(f"no mail to {to} about {subject!r}; the inbox: {seen}")


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _shot(page, name: str) -> None:
    """A full-page screenshot named by the language the page is in (the story switches)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    language = "zh" if page.locator("html").get_attribute("lang") == "zh-CN" else "en"
    page.screenshot(path=SHOTS / f"{language}-informed-{name}.png", full_page=True)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def test_teams_hear_of_announcements_answers_amendments_and_a_cancelled_submission(
    pages,
    people,
    digits,
    smtp,
    running,
    stop_gracefully,
    session,
    words,
    login,
    check,
    good_bundle_zip,
):
    zh, en = words["zh"], words["en"]
    slug, title = digits.slug, {"en": digits.title_en, "zh": digits.title_zh}

    # Ada reads Chinese and wants her mail in Chinese: she says so in her settings.
    ada = pages.new()
    login(ada, "ada@example.com")
    ada.goto("/notifications/settings")
    check(ada)
    ada.get_by_label(zh("Language of your email")).select_option("zh")
    ada.get_by_role("button", name=zh("Save"), exact=True).click()
    expect(ada.get_by_label(zh("Language of your email"))).to_have_value("zh")

    # The sponsor works in English: switched from the menu.
    sponsor = pages.new()
    login(sponsor, "sponsor@example.com")
    sponsor.get_by_role("link", name="English").first.click()
    expect(sponsor.locator("html")).to_have_attribute("lang", "en")

    # 1. An announcement in both languages, the teams told.
    sponsor.goto(f"/challenges/{slug}/announcements")
    sponsor.get_by_label(en("Title (English)")).fill(TITLE["en"])
    sponsor.get_by_label(en("Text (English)")).fill(BODY["en"])
    sponsor.get_by_label(en("Title (Chinese, optional)")).fill(TITLE["zh"])
    sponsor.get_by_label(en("Text (Chinese, optional)")).fill(BODY["zh"])
    sponsor.get_by_label(
        en("Notify the members of every team (by email where they want it)")
    ).check()
    check(sponsor)
    sponsor.get_by_role("button", name=en("Publish"), exact=True).click()
    expect(sponsor.locator("li.announcement h3").first).to_have_text(TITLE["en"])

    # Ada sees it in Chinese on the overview and under Notifications, and has a mail.
    ada.goto(f"/challenges/{slug}")
    expect(ada.locator("li.announcement h3").first).to_have_text(TITLE["zh"])
    expect(ada.locator("li.announcement").first).to_contain_text(BODY["zh"])
    announced = {"challenge": title["zh"], "title": TITLE["zh"]}
    ada.goto("/notifications")
    expect(
        ada.get_by_role("link", name=zh("Announcement on %(challenge)s: %(title)s", **announced))
    ).to_be_visible()
    check(ada)
    mail = _mail(smtp, "ada@example.com", TITLE["zh"])
    assert mail["Content-Language"] == "zh-CN"
    assert mail["Subject"] == zh("Announcement on %(challenge)s: %(title)s", **announced)
    body = _text(mail)
    assert f"https://jiebang.example/challenges/{slug}/announcements#announcement-" in body
    assert (
        zh(
            "The sponsor of %(challenge)s announced: %(title)s. Read it on the challenge page.",
            **announced,
        )
        in body
    )
    # Bo, whose mail is in English, reads the English.
    mail = _mail(smtp, "bo@example.com", TITLE["en"])
    assert mail["Subject"] == en(
        "Announcement on %(challenge)s: %(title)s", challenge=title["en"], title=TITLE["en"]
    )
    assert mail["Content-Language"] == "en"

    # 2. Ada asks in the Chinese interface; the sponsor answers publicly.
    ada.goto(f"/challenges/{slug}/questions")
    expect(ada.locator("html")).to_have_attribute("lang", "zh-CN")
    ada.get_by_label(zh("Your question")).fill(QUESTION)
    ada.get_by_role("button", name=zh("Send the question")).click()
    asked = ada.locator("li.question").filter(has_text=QUESTION)
    expect(asked).to_contain_text(zh("waiting for an answer"))
    _shot(ada, "question-asked")
    sponsor.goto(f"/challenges/{slug}/questions")
    item = sponsor.locator("li.question").filter(has_text=QUESTION)
    item.get_by_label(en("Answer"), exact=True).fill(ANSWER)
    expect(
        item.get_by_label(en("Everyone (the question and the answer become public)"))
    ).to_be_checked()
    check(sponsor)
    item.get_by_role("button", name=en("Save the answer")).click()
    expect(
        sponsor.locator("li.question").filter(has_text=QUESTION).locator(".answer")
    ).to_contain_text("8×8")
    ada.reload()
    expect(asked).to_contain_text(zh("answered publicly"))
    expect(asked.locator(".answer")).to_contain_text(ANSWER)
    ada.goto("/notifications")
    answered = zh("Your question on %(challenge)s is answered", challenge=title["zh"])
    expect(ada.get_by_role("link", name=answered)).to_be_visible()
    expect(ada.locator("li.notification").filter(has_text=answered)).to_contain_text(QUESTION)
    mail = _mail(smtp, "ada@example.com", answered)
    assert mail["Content-Language"] == "zh-CN" and QUESTION in _text(mail)

    # 3. The sponsor extends the deadline by a week, with a reason.
    closes = _utc(digits.closes_at)
    later = (closes + dt.timedelta(days=7)).replace(second=0, microsecond=0)
    sponsor.goto(f"/challenges/{slug}/changes")
    sponsor.get_by_role("link", name=en("Amend this challenge")).click()
    local = later.astimezone(ZoneInfo(digits.timezone)).strftime("%Y-%m-%dT%H:%M")
    sponsor.get_by_label(en("Deadline"), exact=True).fill(local)
    sponsor.get_by_label(en("Reason for the amendment")).fill(REASON)
    check(sponsor)
    sponsor.get_by_role("button", name=en("Publish the amendment")).click()
    sponsor.wait_for_url(lambda url: not url.endswith("/amend"))
    sponsor.goto(f"/challenges/{slug}/changes")
    revision = sponsor.locator("#revision-1")
    expect(revision.get_by_role("heading")).to_have_text(en("Amendment %(number)s", number=1))
    expect(revision).to_contain_text(REASON)
    times = revision.locator("tbody time")
    stamps = [times.nth(i).get_attribute("datetime") for i in (0, 1)]
    assert [_utc(dt.datetime.fromisoformat(t)) for t in stamps] == [closes, later]
    _shot(sponsor, "amendment-history")

    # Ada sees the new deadline on the challenge page and the amendment announced.
    ada.goto(f"/challenges/{slug}")
    shown = ada.locator("time[data-countdown]").first.get_attribute("datetime")
    assert _utc(dt.datetime.fromisoformat(shown)) == later
    expect(ada.get_by_text(zh("Deadline"), exact=True).first).to_be_visible()
    ada.goto(f"/challenges/{slug}/announcements")
    latest = ada.locator("li.announcement").first
    expect(latest.get_by_role("link", name=zh("Amendment"), exact=True)).to_be_visible()
    expect(latest).to_contain_text(REASON)
    expect(latest).to_contain_text("截止时间延长至")  # the amendment's Chinese notice
    _shot(ada, "announcements")
    amended = zh("Amended: %(challenge)s", challenge=title["zh"])
    ada.goto("/notifications")
    expect(ada.get_by_role("link", name=amended)).to_be_visible()
    _shot(ada, "notifications")
    assert _mail(smtp, "ada@example.com", amended)["Content-Language"] == "zh-CN"
    _mail(smtp, "bo@example.com", en("Amended: %(challenge)s", challenge=title["en"]))

    # 4. The worker stops (as when busy with a long run): what Ada submits now waits.
    stop_gracefully([running.pop("worker")])
    ada.get_by_role("link", name="English").first.click()
    expect(ada.locator("html")).to_have_attribute("lang", "en")
    quota = digits.daily_submissions
    used = "Used today: %(used)s of %(n)s (the count resets at midnight, %(tz)s)."
    ada.goto(f"/challenges/{slug}/team")
    expect(ada.get_by_text(en(used, used=0, n=quota, tz=digits.timezone))).to_be_visible()
    ids, places = [], []
    for _ in range(2):
        ada.goto(f"/challenges/{slug}/team")
        ada.get_by_label(en("Code bundle (zip)")).check()
        ada.get_by_label(en("File"), exact=True).set_input_files(good_bundle_zip)
        ada.get_by_role("button", name=en("Submit"), exact=True).click()
        ada.wait_for_url("**/submissions/*", timeout=120_000)
        ids.append(int(ada.url.rstrip("/").rsplit("/", 1)[1]))
        places.append(ada.locator("#queue-place").text_content())
    assert places[0].startswith(en("Next in the queue.")), places
    assert places[1].startswith(en("%(num)d submission ahead of it.", num=1)), places
    ada.goto(f"/challenges/{slug}/team")
    expect(ada.get_by_text(en(used, used=2, n=quota, tz=digits.timezone))).to_be_visible()
    ada.goto(f"/submissions/{ids[1]}")
    check(ada)
    _shot(ada, "submission-queued")
    # The button asks first, saying what cancelling means.
    prompts = []
    ada.once("dialog", lambda dialog: (prompts.append(dialog.message), dialog.accept()))
    ada.get_by_role("button", name=en("Cancel this queued submission")).click()
    expect(
        ada.get_by_text(
            en(
                "Submission %(id)s was cancelled; it does not count against your quota.",
                id=ids[1],
            )
        )
    ).to_be_visible()
    assert prompts == [
        en(
            "Cancel submission %(id)s? It will not be evaluated and will not count against "
            "your quota.",
            id=ids[1],
        )
    ]
    expect(ada.locator("[data-field=status]")).to_have_text(en("cancelled"))
    _shot(ada, "submission-cancelled")
    ada.goto(f"/challenges/{slug}/team")
    expect(ada.get_by_text(en(used, used=1, n=quota, tz=digits.timezone))).to_be_visible()
    session.expire_all()
    assert [session.get(Submission, i).status for i in ids] == ["queued", "cancelled"]
