"""A challenge's announcements, questions and answers, and amendments, over the API."""

from __future__ import annotations

from flask import g, request

from challenges import announcements, corrections, questions
from challenges import service as challenges
from challenges.talk_models import Announcement, ChallengeRevision, Question
from web.api import read
from web.api import schemas as s
from web.api.base import bearer_user, bp, paging, parse, token_required
from web.api.openapi import PAGING, doc
from web.ext import db


def _public(slug: str):
    return challenges.get_challenge(db(), slug, public_only=True)


def _announcement(item: Announcement, numbers: dict[int, int]) -> s.AnnouncementView:
    return s.AnnouncementView(
        id=item.id,
        title_en=item.title_en,
        title_zh=item.title_zh,
        body_en=item.body_en,
        body_zh=item.body_zh,
        emailed=item.emailed,
        amendment=numbers.get(item.revision_id) if item.revision_id else None,
        created_at=item.created_at,
    )


def _question(item: Question) -> s.QuestionView:
    return s.QuestionView(
        id=item.id,
        text=item.text,
        asker=item.asker.name,
        visibility=item.visibility,
        answer=item.answer,
        asked_at=item.created_at,
        answered_at=item.answered_at,
    )


def _revision(item: ChallengeRevision) -> s.RevisionView:
    return s.RevisionView(
        number=item.number,
        changes=item.changes,
        reason=item.reason,
        actor=item.actor.name if item.actor else None,
        at=item.at,
    )


@bp.get("/challenges/<slug>/announcements")
@doc("A challenge's announcements, newest first", s.AnnouncementList, tag="talk")
def list_announcements(slug: str):
    item = _public(slug)
    numbers = {r.id: r.number for r in corrections.revisions(db(), item)}
    found = announcements.listing(db(), item)
    return read.reply(s.AnnouncementList(announcements=[_announcement(a, numbers) for a in found]))


@bp.post("/challenges/<slug>/announcements")
@doc(
    "Sponsor: announce on a published challenge (English; Chinese optional)",
    s.AnnouncementView,
    tag="talk",
    status=201,
    scope="manage",
    body=s.AnnouncementCreate,
)
@token_required("manage")
def post_announcement(slug: str):
    session = db()
    body = parse(s.AnnouncementCreate)
    item = _public(slug)
    made = announcements.post(session, challenge=item, actor=g.api_user, **body.model_dump())
    session.commit()
    return read.reply(_announcement(made, {}), 201)


@bp.get("/challenges/<slug>/questions")
@doc(
    "Questions the caller may read (public answers for everyone; one's own and one's "
    "team's; every one for the sponsor), newest first; q searches questions and answers",
    s.QuestionList,
    tag="talk",
    query={**PAGING, "q": {"type": "string", "maxLength": 200}},
)
def list_questions(slug: str):
    item = _public(slug)
    page, per_page = paging()
    found = questions.listing(
        db(),
        challenge=item,
        viewer=bearer_user(),
        q=request.args.get("q"),
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    return read.reply(
        s.QuestionList(questions=[_question(q) for q in found], page=page, per_page=per_page)
    )


@bp.post("/challenges/<slug>/questions")
@doc(
    "Ask the sponsor (private until answered publicly)",
    s.QuestionView,
    tag="talk",
    status=201,
    scope="submit",
    body=s.QuestionCreate,
)
@token_required("submit")
def ask(slug: str):
    session = db()
    text = parse(s.QuestionCreate).text
    asked = questions.ask(session, challenge=_public(slug), user=g.api_user, text=text)
    session.commit()
    return read.reply(_question(asked), 201)


@bp.post("/challenges/<slug>/questions/<id:question_id>/answer")
@doc(
    "Sponsor: answer a question, publicly or to the asker's team only",
    s.QuestionView,
    tag="talk",
    scope="manage",
    body=s.AnswerCreate,
)
@token_required("manage")
def answer(slug: str, question_id: int):
    session = db()
    body = parse(s.AnswerCreate)
    item = _public(slug)
    question = questions.get_question(
        session, challenge=item, question_id=question_id, viewer=g.api_user
    )
    questions.answer(
        session, question=question, actor=g.api_user, text=body.answer, public=body.public
    )
    session.commit()
    return read.reply(_question(question))


@bp.get("/challenges/<slug>/revisions")
@doc("The public history of a challenge's amendments, the latest first", s.RevisionList, tag="talk")
def list_revisions(slug: str):
    found = corrections.revisions(db(), _public(slug))
    return read.reply(s.RevisionList(revisions=[_revision(r) for r in found]))


@bp.post("/challenges/<slug>/amend")
@doc(
    "Sponsor: amend an open challenge's texts or terms, or extend its deadline (never its "
    "hidden data or metric); recorded as a numbered revision and announced",
    s.RevisionView,
    tag="talk",
    status=201,
    scope="manage",
    body=s.AmendmentCreate,
)
@token_required("manage")
def amend(slug: str):
    session = db()
    body = parse(s.AmendmentCreate)
    revision = corrections.amend(
        session,
        challenge=_public(slug),
        actor=g.api_user,
        changes=body.changes,
        reason=body.reason,
    )
    session.commit()
    return read.reply(_revision(revision), 201)
