"""Numbers for the sponsor's dashboard and the team's progress chart.

Each function reads what it needs in one query and aggregates in Python: these are
per-challenge summaries of at most some thousands of rows, and grouping by the
challenge's local day this way works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges.metrics import better
from challenges.models import Challenge, Membership, Team
from challenges.ranking import ranking_of
from evaluator.models import State, Submission
from jiebang.db import utcnow
from web import charts
from web.filters import local_time

MAX_DAYS = 60


@dataclass(frozen=True)
class Dashboard:
    teams: int
    participants: int
    submissions: int
    by_status: dict[str, int]
    failures: dict[str, int]
    per_day: list[tuple[str, float]]
    scores: list[float]


def _rows(session: Session, challenge: Challenge):
    query = select(
        Submission.created_at,
        Submission.team_id,
        Submission.status,
        Submission.failure,
        Submission.public_score,
    ).where(
        Submission.challenge_id == challenge.id,
        Submission.rerun_of_id.is_(None),
        Submission.dry_run.is_(False),  # the sponsor's own dry runs are not participation
    )
    return session.execute(query.order_by(Submission.created_at, Submission.id)).all()


def dashboard(session: Session, challenge: Challenge) -> Dashboard:
    rows = _rows(session, challenge)
    teams = session.scalar(select(func.count()).where(Team.challenge_id == challenge.id))
    people = session.scalar(select(func.count()).where(Membership.challenge_id == challenge.id))
    zone = zoneinfo.ZoneInfo(challenge.timezone)
    days = Counter(r.created_at.astimezone(zone).date() for r in rows)
    return Dashboard(
        teams=teams or 0,
        participants=people or 0,
        submissions=len(rows),
        by_status=dict(Counter(r.status for r in rows)),
        failures=dict(Counter(r.failure for r in rows if r.failure)),
        per_day=_daily(days, challenge, zone),
        scores=[r.public_score for r in rows if r.public_score is not None],
    )


def _daily(days: Counter, challenge: Challenge, zone) -> list[tuple[str, float]]:
    """One bar per local day from the first submission to today (or the close)."""
    if not days:
        return []
    first = min(days)
    last = min(utcnow(), challenge.closes_at).astimezone(zone).date()
    last = max(last, max(days))
    first = max(first, last - dt.timedelta(days=MAX_DAYS - 1))
    span = (last - first).days + 1
    return [
        ((first + dt.timedelta(d)).strftime("%m-%d"), float(days[first + dt.timedelta(d)]))
        for d in range(span)
    ]


def daily_chart(board: Dashboard) -> Markup:
    total = sum(v for _, v in board.per_day)
    return charts.bar_chart(
        board.per_day,
        title=_("Submissions per day"),
        desc=_("%(n)d submissions over %(days)d days.", n=total, days=len(board.per_day)),
        empty=_("No submissions yet."),
    )


def distribution_chart(board: Dashboard, challenge: Challenge) -> Markup:
    title = _("Distribution of public scores")
    if not board.scores:
        return charts.bar_chart([], title=title, desc=title, empty=_("No scores yet."))
    bars, low, high = charts.histogram(board.scores)
    threshold = metric_threshold(challenge)
    marker = None
    if threshold is not None and low <= threshold <= high:
        marker = ((threshold - low) / (high - low) * len(bars), _("target"))
    desc = _(
        "%(n)d scored submissions, from %(low)s to %(high)s.",
        n=len(board.scores),
        low=f"{min(board.scores):.4f}",
        high=f"{max(board.scores):.4f}",
    )
    return charts.bar_chart(bars, title=title, desc=desc, empty="", css="bar alt", marker=marker)


def metric_threshold(challenge: Challenge) -> float | None:
    for target in challenge.targets:
        if target.get("metric") == challenge.metric:
            return target.get("at_least", target.get("at_most"))
    return None


@dataclass(frozen=True)
class History:
    team: list[tuple[dt.datetime, float]]
    top: list[tuple[dt.datetime, float]]


def history(session: Session, challenge: Challenge, team_id: int) -> History:
    """The team's public scores, and the board's best public score each time it improved."""
    # The board's direction, from a scoring program's declared metric (map50) as well as a
    # built-in one: get_metric knows only the built-ins (the team page was a 500).
    metric = ranking_of(challenge)
    mine, top, best = [], [], None
    for row in _rows(session, challenge):
        if row.status != State.scored.value or row.public_score is None:
            continue
        if row.team_id == team_id:
            mine.append((row.created_at, row.public_score))
        if better(metric, row.public_score, best):
            best = row.public_score
            top.append((row.created_at, best))
    return History(team=mine, top=top)


def progress_chart(past: History, challenge: Challenge) -> Markup:
    threshold = metric_threshold(challenge)
    series = [
        charts.Series(_("Best on the board"), past.top, "top", step=True),
        charts.Series(_("Your team"), past.team, "team"),
    ]
    desc = _(
        "Your team has %(n)d scored submissions; the best on the public board is %(top)s.",
        n=len(past.team),
        top=f"{past.top[-1][1]:.4f}" if past.top else "—",
    )
    return charts.score_chart(
        series,
        title=_("Your public score over time"),
        desc=desc,
        empty=_("No scored submissions yet."),
        threshold=threshold,
        threshold_label=_("target"),
        time_label=lambda t: local_time(t, challenge.timezone)[5:16],
    )
