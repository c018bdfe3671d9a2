"""The talk pages (issue 15): announcements, questions and answers, amendments."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from challenges import questions
from challenges.talk_models import Announcement, ChallengeRevision, Question


@pytest.fixture
def people(world, session, published):
    org = world.org()
    made = {
        "sponsor": world.user("s@example.com", "sponsor", org=org),
        "a1": world.user("a1@example.com"),
        "b1": world.user("b1@example.com"),
    }
    world.team(published, made["a1"], name="Team A")
    world.team(published, made["b1"], name="Team B")
    session.commit()
    return made


def login(client, email):
    client.post("/logout")
    response = client.post("/login", data={"email": email, "password": "password123"})
    assert response.status_code == 302


def test_sponsor_announces_and_everyone_reads_it(client, people, session, published):
    login(client, "s@example.com")
    page = client.get("/challenges/parity/announcements").get_data(as_text=True)
    assert 'id="announce-form"' in page
    response = client.post(
        "/challenges/parity/announcements",
        data={
            "title_en": "New sample",
            "body_en": "See **data**.",
            "title_zh": "新样例",
            "body_zh": "见数据页。",
            "email": "y",
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    english = client.get("/challenges/parity").get_data(as_text=True)
    assert "New sample" in english and "<strong>data</strong>" in english
    chinese = client.get("/challenges/parity/announcements", headers={"Accept-Language": "zh-CN"})
    assert "新样例" in chinese.get_data(as_text=True)
    assert 'id="announce-form"' not in chinese.get_data(as_text=True)
    assert (
        client.post(
            "/challenges/parity/announcements", data={"title_en": "x", "body_en": "y"}
        ).status_code
        == 404
    )
    assert session.scalar(select(Announcement.emailed)) is True


def test_a_question_answered_privately_stays_with_its_team(client, people, session):
    login(client, "a1@example.com")
    response = client.post("/challenges/parity/questions", data={"text": "Secret GPU plan?"})
    assert response.status_code == 302
    question = session.scalar(select(Question))
    login(client, "b1@example.com")
    assert "Secret GPU plan" not in client.get("/challenges/parity/questions").get_data(True)
    login(client, "s@example.com")
    page = client.get("/challenges/parity/questions").get_data(as_text=True)
    assert f'id="answer-form-{question.id}"' in page
    client.post(
        f"/challenges/parity/questions/{question.id}/answer",
        data={"answer": "Use one GPU.", "visibility": "private"},
    )
    login(client, "b1@example.com")
    assert "Secret GPU plan" not in client.get("/challenges/parity/questions").get_data(True)
    assert (
        client.post(
            f"/challenges/parity/questions/{question.id}/answer",
            data={"answer": "leak", "visibility": "public"},
        ).status_code
        == 404
    )
    login(client, "a1@example.com")
    mine = client.get("/challenges/parity/questions").get_data(as_text=True)
    assert "Secret GPU plan" in mine and "Use one GPU." in mine
    client.post("/logout")
    assert "Secret GPU plan" not in client.get("/challenges/parity/questions").get_data(True)
    assert "Secret GPU plan" not in client.get("/challenges/parity").get_data(True)


def test_an_unanswered_question_offers_the_public_answer_alone_checked(client, people, session):
    """An unanswered question is stored private: only "Everyone" may be checked on its form
    (two checked radios of one group: the browser kept the last, a private answer)."""
    login(client, "a1@example.com")
    client.post("/challenges/parity/questions", data={"text": "Which GPU?"})
    question = session.scalar(select(Question))
    login(client, "s@example.com")
    page = client.get("/challenges/parity/questions").get_data(as_text=True)
    checked = re.findall(r'<input type="radio"[^>]*id="visibility-(\w+)-\d+"[^>]*checked', page)
    assert checked == ["public"]
    client.post(
        f"/challenges/parity/questions/{question.id}/answer",
        data={"answer": "One.", "visibility": "private"},
    )
    page = client.get("/challenges/parity/questions").get_data(as_text=True)
    checked = re.findall(r'<input type="radio"[^>]*id="visibility-(\w+)-\d+"[^>]*checked', page)
    assert checked == ["private"]  # a changed answer keeps its choice


def test_a_public_answer_is_on_the_challenge_page_and_searchable(client, people, session):
    login(client, "a1@example.com")
    client.post("/challenges/parity/questions", data={"text": "Is 100% of train public?"})
    question = session.scalar(select(Question))
    login(client, "s@example.com")
    client.post(
        f"/challenges/parity/questions/{question.id}/answer",
        data={"answer": "Yes, all of it.", "visibility": "public"},
    )
    client.post("/logout")
    assert "Yes, all of it." in client.get("/challenges/parity").get_data(True)
    assert "Is 100% of train" in client.get("/challenges/parity/questions?q=100%25").get_data(True)
    assert "Is 100% of train" not in client.get("/challenges/parity/questions?q=1_0").get_data(True)


def test_sponsor_amends_and_the_history_is_public(client, people, session, published):
    login(client, "s@example.com")
    form = client.get("/challenges/parity/amend")
    assert form.status_code == 200 and 'id="amend-form"' in form.get_data(as_text=True)
    later = (published.closes_at + dt.timedelta(days=3)).astimezone(
        dt.timezone(dt.timedelta(hours=8))
    )
    data = {
        "title_en": published.title_en,
        "title_zh": published.title_zh,
        "summary_en": published.summary_en,
        "summary_zh": published.summary_zh,
        "description_md": published.description_md,
        "description_md_zh": "# 中文说明\n\n预测奇偶。",
        "closes_at": later.strftime("%Y-%m-%dT%H:%M"),
        "reason": "More time and a Chinese description.",
    }
    response = client.post("/challenges/parity/amend", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    revision = session.scalar(select(ChallengeRevision))
    assert set(revision.changes) == {"description_md_zh", "closes_at"}
    client.post("/logout")
    history = client.get("/challenges/parity/changes").get_data(as_text=True)
    assert "More time and a Chinese description." in history and 'id="revision-1"' in history
    zh = client.get("/challenges/parity", headers={"Accept-Language": "zh-CN"}).get_data(True)
    assert "中文说明" in zh
    assert "中文说明" not in client.get("/challenges/parity").get_data(True)
    assert client.get("/challenges/parity/amend").status_code == 302  # to the login
    login(client, "a1@example.com")
    assert client.get("/challenges/parity/amend").status_code == 404


def test_an_earlier_deadline_is_refused_on_the_form(client, people, published):
    login(client, "s@example.com")
    data = {
        "title_en": published.title_en,
        "title_zh": published.title_zh,
        "summary_en": published.summary_en,
        "summary_zh": published.summary_zh,
        "closes_at": "2030-01-01T00:00",
        "reason": "Shorter.",
    }
    response = client.post("/challenges/parity/amend", data=data)
    assert response.status_code == 400
    assert "can only be extended" in response.get_data(as_text=True)


def test_questions_listing_counts_no_rows_for_strangers(session, people, published):
    questions.ask(session, challenge=published, user=people["a1"], text="q?")
    assert questions.listing(session, challenge=published, viewer=people["b1"]) == []


def test_the_challenge_form_takes_a_chinese_description(client, people, session, bundle_dir):
    from challenges.models import Challenge
    from tests.web.test_sponsor_pages import FORM, _files

    login(client, "s@example.com")
    assert 'name="description_zh"' in client.get("/sponsor/challenges/new").get_data(True)
    data = {**FORM, "description_zh": "# 港口\n\n识别箱损。", **_files(bundle_dir)}
    response = client.post("/sponsor/challenges/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    item = session.query(Challenge).filter_by(slug="port-damage").one()
    assert item.description("zh") == "# 港口\n\n识别箱损。"
    assert item.description("en").startswith("# Port")
    edit = client.get("/sponsor/challenges/port-damage/edit").get_data(as_text=True)
    assert "识别箱损" in edit


def test_the_api_gives_both_descriptions(client, people, session, published):
    published.description_md_zh = "# 中文"
    session.commit()
    body = client.get("/api/v1/challenges/parity").get_json()
    assert body["description_md_zh"] == "# 中文" and body["description_md"].startswith("# Test")


def test_the_talk_notifications_read_in_words(session, people, published):
    from challenges import corrections
    from jiebang.notifications import Notification
    from web.notification_text import render_note

    corrections.amend(
        session,
        challenge=published,
        actor=people["sponsor"],
        changes={"summary_en": "Shorter."},
        reason="Clearer.",
    )
    note = session.query(Notification).filter_by(kind="challenge.amended").first()
    text = render_note(note, "en", lambda s: s)
    assert text.title == "Amended: Parity"
    assert text.body == "The sponsor amended Parity. Amendment 1: English summary."


def test_the_asker_is_told_which_question_was_answered(session, people, published):
    """The notification quotes the question (its first words), not its number."""
    from jiebang.notifications import Notification
    from web.notification_text import render_note

    long = "Is the test set\n drawn like the training set? " + "x" * 200
    asked = questions.ask(session, challenge=published, user=people["a1"], text=long)
    questions.answer(session, question=asked, actor=people["sponsor"], text="Yes.", public=True)
    note = session.query(Notification).filter_by(kind="question.answered").one()
    body = render_note(note, "en", lambda s: s).body
    assert body.startswith(
        "The sponsor of Parity answered your question: Is the test set drawn like the training"
    )
    assert body.endswith("x…") and len(note.params["question"]) == questions.EXCERPT


def test_a_closed_challenge_is_not_amended(client, people, session, published):
    import datetime as dt

    published.closes_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    session.commit()
    login(client, "s@example.com")
    response = client.get("/challenges/parity/amend", follow_redirects=True)
    assert response.request.path == "/challenges/parity/changes"
    page = response.get_data(as_text=True)
    assert "Only an open challenge can be amended" in page and 'id="amend-link"' not in page
