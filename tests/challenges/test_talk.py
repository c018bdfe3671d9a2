"""Announcements, questions and answers, amendments (issue 15): the services."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from challenges import announcements, corrections, lifecycle, questions
from challenges.talk_models import Announcement, ChallengeRevision
from jiebang.audit import AuditEvent
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound
from jiebang.notifications import Notification

OPEN = {"opens_at": "2020-01-01T00:00:00+08:00", "closes_at": "2099-01-01T00:00:00+08:00"}


@pytest.fixture
def cast(world, session):
    """A published challenge, its sponsor, an admin, two teams and a loner."""
    item = world.challenge(**OPEN)
    org = world.org()
    people = {
        "item": item,
        "sponsor": world.user("s@acme.example.com", "sponsor", org=org),
        "admin": world.user("admin@example.com", "admin"),
        "a1": world.user("a1@example.com"),
        "a2": world.user("a2@example.com"),
        "b1": world.user("b1@example.com"),
        "loner": world.user("loner@example.com"),
    }
    people["team_a"] = world.team(item, people["a1"], people["a2"], name="Team A")
    people["team_b"] = world.team(item, people["b1"], name="Team B")
    session.flush()
    return people


def kinds(session, kind):
    return list(session.scalars(select(Notification).where(Notification.kind == kind)))


def events(session, kind):
    return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)))


def test_announcement_in_both_languages_emails_the_teams(session, cast):
    item = cast["item"]
    post = announcements.post(
        session,
        challenge=item,
        actor=cast["sponsor"],
        title_en="Data fixed",
        body_en="Row 12 was wrong.",
        email=True,
    )
    assert post.title("zh-CN") == "Data fixed"  # no Chinese: the English
    newer = announcements.post(
        session,
        challenge=item,
        actor=cast["admin"],
        title_en="Webinar",
        title_zh="说明会",
        body_en="Friday.",
        body_zh="周五。",
    )
    assert newer.title("zh") == "说明会" and newer.body("en") == "Friday."
    assert [a.id for a in announcements.listing(session, item)] == [newer.id, post.id]
    told = kinds(session, "challenge.announcement")
    members = {cast[k].id for k in ("a1", "a2", "b1")}
    assert {n.user_id for n in told} == members  # only the first asked for mail
    assert told[0].params["title"] == {"en": "Data fixed", "zh": "Data fixed"}
    assert len(events(session, "challenge.announced")) == 2


def test_only_the_sponsor_and_admins_announce(session, cast, world):
    for who in ("a1", "loner"):
        with pytest.raises((Forbidden, NotFound)):
            announcements.post(
                session, challenge=cast["item"], actor=cast[who], title_en="x", body_en="y"
            )
    other = world.user("s@other.example.com", "sponsor", org=world.org("other"))
    with pytest.raises(NotFound):
        announcements.post(session, challenge=cast["item"], actor=other, title_en="x", body_en="y")
    with pytest.raises(Invalid) as refused:
        announcements.post(
            session, challenge=cast["item"], actor=cast["sponsor"], title_en=" ", body_en="y"
        )
    assert refused.value.field == "title_en"


def test_questions_are_private_until_answered_publicly(session, cast):
    item = cast["item"]
    asked = questions.ask(session, challenge=item, user=cast["a1"], text="May we use ImageNet?")
    other = questions.ask(session, challenge=item, user=cast["b1"], text="Is 50% the split?")

    def sees(who):
        viewer = cast[who] if who else None
        return {q.id for q in questions.listing(session, challenge=item, viewer=viewer)}

    assert sees("a1") == sees("a2") == {asked.id}  # the asker's team
    assert sees("b1") == {other.id}
    assert sees("loner") == sees(None) == set()
    assert sees("sponsor") == sees("admin") == {asked.id, other.id}
    with pytest.raises(NotFound):
        questions.get_question(session, challenge=item, question_id=asked.id, viewer=cast["b1"])

    questions.answer(session, question=asked, actor=cast["sponsor"], text="Yes.", public=False)
    assert sees("b1") == {other.id} and sees(None) == set()  # private answer
    assert [n.user_id for n in kinds(session, "question.answered")] == [cast["a1"].id]

    questions.answer(session, question=asked, actor=cast["sponsor"], text="Yes!", public=True)
    assert sees("b1") == {asked.id, other.id} and sees(None) == {asked.id}
    assert questions.get_question(session, challenge=item, question_id=asked.id, viewer=None)

    questions.hide(session, question=other, actor=cast["sponsor"])
    assert sees("b1") == {asked.id}  # hidden even from its asker
    assert sees("sponsor") == {asked.id, other.id}
    with pytest.raises(Conflict):
        questions.answer(session, question=other, actor=cast["sponsor"], text="no", public=True)
    assert len(events(session, "question.answered")) == 2
    assert len(events(session, "question.hidden")) == 1


def test_who_asks_and_answers(session, cast):
    item = cast["item"]
    for who in ("sponsor", "admin"):
        with pytest.raises(Forbidden):
            questions.ask(session, challenge=item, user=cast[who], text="?")
    asked = questions.ask(session, challenge=item, user=cast["loner"], text="Which GPU?")
    assert asked.team_id is None
    for who in ("a1", "loner"):
        with pytest.raises(NotFound):
            questions.answer(session, question=asked, actor=cast[who], text="x", public=True)
    with pytest.raises(Invalid):
        questions.ask(session, challenge=item, user=cast["a1"], text="x" * 2001)


def test_search_escapes_wildcards_and_finds_chinese(session, cast):
    item = cast["item"]
    pct = questions.ask(session, challenge=item, user=cast["a1"], text="Is 50% public?")
    plain = questions.ask(session, challenge=item, user=cast["a1"], text="Is 500 rows enough")
    zh = questions.ask(session, challenge=item, user=cast["a1"], text="可以使用预训练模型吗？")
    questions.answer(
        session, question=plain, actor=cast["sponsor"], text="Under_score", public=True
    )

    def found(q, viewer="a1"):
        return {x.id for x in questions.listing(session, challenge=item, viewer=cast[viewer], q=q)}

    assert found("50%") == {pct.id}  # % taken literally, not "50 then anything"
    assert found("IS 50") == {pct.id, plain.id}  # case-insensitive
    assert found("under_") == {plain.id}  # found in the answer; _ literal
    assert found("0_r") == set()  # "_" is no wildcard for "500 rows"
    assert found("预训练") == {zh.id}
    assert found("预训练", viewer="b1") == set()  # search never widens what one sees


def test_amend_texts_and_extend_the_deadline(session, cast):
    item = cast["item"]
    old_close = item.closes_at
    new_close = old_close + dt.timedelta(days=7)
    revision = corrections.amend(
        session,
        challenge=item,
        actor=cast["sponsor"],
        changes={
            "description_md_zh": "# 中文说明",
            "closes_at": new_close.isoformat(),
            "title_en": item.title_en,  # unchanged: not recorded
        },
        reason="Chinese text added; more time.",
    )
    assert revision.number == 1
    assert set(revision.changes) == {"description_md_zh", "closes_at"}
    assert revision.changes["closes_at"]["old"] == old_close.isoformat()
    assert item.closes_at == new_close and item.description("zh") == "# 中文说明"
    assert item.description("en") == item.description_md
    notice = session.scalar(select(Announcement).where(Announcement.revision_id == revision.id))
    assert "Amendment 1" in notice.title_en and "第 1 次更正" in notice.title_zh
    assert "截止时间延长" in notice.body_zh
    assert len(kinds(session, "challenge.amended")) == 3  # every team member
    assert events(session, "challenge.amended")[0].challenge_id == item.id
    again = corrections.amend(
        session, challenge=item, actor=cast["admin"], changes={"summary_en": "New."}, reason="r"
    )
    assert [r.number for r in corrections.revisions(session, item)] == [2, 1]
    assert again.actor_id == cast["admin"].id


def test_amend_terms_asks_teams_to_accept_again(session, cast):
    item = cast["item"]
    if not hasattr(item, "terms_en"):
        pytest.skip("no terms on challenges in this tree")
    before = item.terms_version
    corrections.amend(
        session, challenge=item, actor=cast["sponsor"], changes={"terms_en": "New"}, reason="r"
    )
    assert item.terms_version == before + 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"metric": "accuracy"}, "metric"),
        ({"test_labels": "x.csv"}, "test_labels"),
        ({"slug": "x"}, "slug"),
        ({"closes_at": "2026-01-01T00:00:00+08:00"}, "closes_at"),  # earlier
        ({"closes_at": "2100-01-01T00:00:00"}, "closes_at"),  # no zone
        ({"title_en": ""}, "title_en"),
        ({}, "changes"),
    ],
)
def test_amend_refuses(session, cast, changes, field):
    with pytest.raises(Invalid) as refused:
        corrections.amend(
            session, challenge=cast["item"], actor=cast["sponsor"], changes=changes, reason="r"
        )
    assert refused.value.field == field
    assert session.scalar(select(ChallengeRevision.id)) is None


def test_amend_needs_the_sponsor_and_an_open_challenge(session, cast, world):
    item = cast["item"]
    with pytest.raises(NotFound):
        corrections.amend(
            session, challenge=item, actor=cast["a1"], changes={"summary_en": "x"}, reason="r"
        )
    with pytest.raises(Invalid):
        corrections.amend(
            session, challenge=item, actor=cast["sponsor"], changes={"summary_en": "x"}, reason=""
        )
    late = item.closes_at + dt.timedelta(seconds=1)
    with pytest.raises(Conflict):
        corrections.amend(
            session,
            challenge=item,
            actor=cast["sponsor"],
            changes={"closes_at": (item.closes_at + dt.timedelta(days=1)).isoformat()},
            reason="r",
            now=late,
        )


def test_an_extended_deadline_closes_at_the_new_time(session, cast):
    item = cast["item"]
    first = item.closes_at
    new = first + dt.timedelta(hours=5)
    corrections.amend(
        session,
        challenge=item,
        actor=cast["sponsor"],
        changes={"closes_at": new.isoformat()},
        reason="More time.",
        now=first - dt.timedelta(hours=1),
    )
    session.flush()
    assert lifecycle.close_due(session, now=first) == []  # the old deadline passes: open
    assert item.is_accepting(first + dt.timedelta(hours=1))
    assert lifecycle.close_due(session, now=new) == [item]
    assert item.status == "closed"


def test_an_extended_deadline_warns_again_before_it(session, cast):
    from challenges import notices

    item = cast["item"]
    first = item.closes_at
    before = first - dt.timedelta(hours=2)
    notices.announce_due(session, now=before)
    warned = len(kinds(session, "challenge.closing_soon"))
    assert warned == 3  # every team member, once
    corrections.amend(
        session,
        challenge=item,
        actor=cast["sponsor"],
        changes={"closes_at": (first + dt.timedelta(days=3)).isoformat()},
        reason="More time.",
        now=before,
    )
    notices.announce_due(session, now=before + dt.timedelta(minutes=1))
    assert len(kinds(session, "challenge.closing_soon")) == warned  # not near the new one
    notices.announce_due(session, now=first + dt.timedelta(days=2, hours=1))
    assert len(kinds(session, "challenge.closing_soon")) == 2 * warned
