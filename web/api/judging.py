"""Judging over the API: the provisional winner, re-runs, verdicts."""

from __future__ import annotations

from flask import g

from challenges import service as challenges
from challenges.policy import Action, require
from evaluator.reruns import enqueue_rerun
from leaderboards.decision import judging_state, record_verdict, rerun_winner
from web.api import read
from web.api import schemas as s
from web.api.base import bp, parse, token_required
from web.api.openapi import doc
from web.ext import db, services


def _judged(slug: str):
    return challenges.get_challenge(db(), slug, public_only=True)


@bp.get("/challenges/<slug>/judging")
@doc(
    "Judge: the provisional winner, its latest re-run, whether it reproduces",
    s.JudgingView,
    tag="judging",
    scope="read",
)
@token_required("read")
def judging(slug: str):
    item = _judged(slug)
    require(db(), g.api_user, Action.see_judging, item)
    return read.reply(read.judging_view(item, judging_state(db(), item)))


@bp.post("/challenges/<slug>/reruns")
@doc(
    "Judge: re-run the provisional winner's submission",
    s.RerunCreated,
    tag="judging",
    status=201,
    scope="manage",
)
@token_required("manage")
def rerun(slug: str):
    session = db()
    item = _judged(slug)  # the service asks who judges
    new = rerun_winner(session, item, judge=g.api_user)
    session.commit()
    enqueue_rerun(services().redis, new, services().settings)
    return read.reply(s.RerunCreated(id=new.id, rerun_of=new.rerun_of_id, status=new.status), 201)


@bp.post("/challenges/<slug>/verdicts")
@doc(
    "Judge: approve the provisional winner (after a reproducing re-run) or disqualify it",
    s.StatusChange,
    tag="judging",
    status=201,
    scope="manage",
    body=s.VerdictCreate,
)
@token_required("manage")
def verdict(slug: str):
    session = db()
    item = _judged(slug)
    require(session, g.api_user, Action.judge, item)  # the service asks too; before the body
    body = parse(s.VerdictCreate)
    record_verdict(session, item, judge=g.api_user, decision=body.decision, reason=body.reason)
    session.commit()
    return read.reply(s.StatusChange(slug=slug, status=item.status), 201)
