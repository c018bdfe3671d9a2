"""Questions and answers on a challenge.

A signed-in outsider asks; the sponsor's members (or an administrator) answer, publicly
or privately, or hide a question (abuse). Every question starts private: until it is
answered publicly only its asker, the asker's team (as it was when asking), the
sponsor's members and the administrators read it, since a sponsor under confidentiality
must see a question before the world does. A private answer is read by the same people.
Who reads which question is ``Action.see_question``; ``readable`` is the same rule in
SQL, for a whole list at once.
"""

from __future__ import annotations

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from challenges.announcements import ANSWERED, clean_text, titles
from challenges.models import Challenge, Membership
from challenges.policy import PREVIEW, Action, can, require
from challenges.talk_models import Question, Visibility
from challenges.teams import team_of
from jiebang import audit, notifications
from jiebang.accounts import User
from jiebang.db import utcnow
from jiebang.errors import Conflict, Invalid, NotFound
from jiebang.policy import signed_in

TEXT_MAX = 2_000
ANSWER_MAX = 10_000
EXCERPT = 80  # characters of the question its asker's notification quotes
PAGE = 50


def excerpt(text: str) -> str:
    """The question's first words, on one line, for the asker's notification."""
    line = " ".join(text.split())
    return line if len(line) <= EXCERPT else line[: EXCERPT - 1] + "…"


def ask(session: Session, *, challenge: Challenge, user: User, text: str) -> Question:
    require(session, user, Action.ask_question, challenge)
    if challenge.is_decided():
        raise Conflict("question", "This challenge is decided; it takes no more questions.")
    team = team_of(session, user=user, challenge=challenge)
    question = Question(
        challenge_id=challenge.id,
        asker_id=user.id,
        team_id=team.id if team else None,
        text=clean_text(text, field="text", high=TEXT_MAX, required=True),
        visibility=Visibility.private.value,
    )
    session.add(question)
    session.flush()
    audit.record(
        session, "question.asked", actor_id=user.id, challenge_id=challenge.id, question=question.id
    )
    return question


def answer(
    session: Session, *, question: Question, actor: User, text: str, public: bool
) -> Question:
    """Answer (or answer again), publicly or privately; the asker is notified."""
    challenge = question.challenge
    require(session, actor, Action.answer_question, challenge)
    if question.visibility == Visibility.hidden.value:
        raise Conflict("question", "This question is hidden; it cannot be answered.")
    question.answer = clean_text(text, field="answer", high=ANSWER_MAX, required=True)
    question.visibility = (Visibility.public if public else Visibility.private).value
    question.answered_by = actor.id
    question.answered_at = utcnow()
    audit.record(
        session,
        "question.answered",
        actor_id=actor.id,
        challenge_id=challenge.id,
        question=question.id,
        public=bool(public),
    )
    notifications.notify(
        session,
        kind=ANSWERED.name,
        user_ids=[question.asker_id],
        params={"challenge": titles(challenge), "question": excerpt(question.text)},
        link=f"/challenges/{challenge.slug}/questions#question-{question.id}",
    )
    return question


def hide(session: Session, *, question: Question, actor: User) -> Question:
    """Withdraw a question (abuse) from everyone but the sponsor and administrators."""
    require(session, actor, Action.answer_question, question.challenge)
    question.visibility = Visibility.hidden.value
    audit.record(
        session,
        "question.hidden",
        actor_id=actor.id,
        challenge_id=question.challenge_id,
        question=question.id,
    )
    return question


def get_question(
    session: Session, *, challenge: Challenge, question_id: int, viewer: User | None
) -> Question:
    question = session.get(Question, question_id)
    if question is None or question.challenge_id != challenge.id:
        raise NotFound("question", "No question %(id)s here.", id=question_id)
    require(session, viewer, Action.see_question, question)
    return question


def readable(session: Session, viewer: User | None, challenge: Challenge) -> ColumnElement:
    """``Action.see_question`` as one SQL condition for ``viewer`` over ``challenge``'s
    questions (decided once for the list, never per row)."""
    if can(session, viewer, Action.answer_question, challenge):
        return Question.challenge_id == challenge.id
    if challenge.status in PREVIEW:
        return false()
    public = and_(Question.visibility == Visibility.public.value, Question.answer.is_not(None))
    viewer = signed_in(viewer)
    if viewer is None:
        return and_(Question.challenge_id == challenge.id, public)
    teams = select(Membership.team_id).where(
        Membership.user_id == viewer.id, Membership.challenge_id == challenge.id
    )
    own = and_(
        Question.visibility != Visibility.hidden.value,
        or_(Question.asker_id == viewer.id, Question.team_id.in_(teams)),
    )
    return and_(Question.challenge_id == challenge.id, or_(public, own))


def like_pattern(term: str) -> str:
    """``term`` as a LIKE pattern matching it anywhere, its wildcards taken literally
    (escaped with ``\\``), lower-cased for a case-insensitive match on both databases."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def listing(
    session: Session,
    *,
    challenge: Challenge,
    viewer: User | None,
    q: str | None = None,
    limit: int = PAGE,
    offset: int = 0,
) -> list[Question]:
    """The questions ``viewer`` may read, newest first; ``q`` searches the questions and
    the answers (in whatever language they are written)."""
    query = select(Question).where(readable(session, viewer, challenge))
    term = (q or "").strip()
    if term:
        if len(term) > 200:
            raise Invalid("q", "Search for at most 200 characters.")
        pattern = like_pattern(term)
        query = query.where(
            or_(
                func.lower(Question.text).like(pattern, escape="\\"),
                func.lower(func.coalesce(Question.answer, "")).like(pattern, escape="\\"),
            )
        )
    query = query.order_by(Question.created_at.desc(), Question.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))
