"""The live state checked against the audit log: what ``jiebang audit verify`` adds to
the hash chain's check.

The chain proves that no event was edited or removed; it says nothing of the tables
the pages read. Whoever can write to the database could move a score, a team's best
or an award and the chain would still verify. Here the log is read again and what it
says is compared with the rows:

- every submission: the event that received it (challenge, team, file), its result
  (status, failure, both scores and their metrics, runtime, image id, dataset hash,
  the submission it re-runs) and its final selection. A row no event names, and an
  event whose row is gone, are disagreements too;
- each team's best on the public board (``team_bests``), recomputed from the
  submissions the *log* says were scored, in the board's order;
- each frozen private board, ranked again from the live submissions, against the
  digest recorded at the freeze; the verdicts; the award (team, amount, currency).

Memory stays bounded by the number of teams and challenges, not of submissions: the
database sorts the submission events by the submission they name (the id inside each
event's data), and that stream is merged with the ``submissions`` table read in id
order, both through server-side cursors, so one submission is in hand at a time.

Events written before this check existed are read as they are: a field an event
does not carry (the metrics, in databases from before they were recorded; the scores
in the reconciler's "gave up" failures) is not compared, except that a submission the
log says failed or was rejected must have no scores.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter, itemgetter

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from challenges.models import Challenge
from challenges.ranking import ranking_of
from evaluator.models import FINAL, State, Submission, TeamBest
from jiebang import audit
from jiebang.audit import AuditEvent
from leaderboards.verify_decisions import check_decisions

KEEP = 1000  # disagreements kept word for word; any beyond are only counted
BATCH = 5000  # rows per fetch of each server-side cursor

RECEIVED, RERUN = "submission.received", "submission.rerun_requested"
RESULTS = {f"submission.{s.value}": s.value for s in FINAL}
FINAL_VALUES = frozenset(s.value for s in FINAL)
SELECTIONS = {"submission.selected": True, "submission.unselected": False}
# A result's fields, named as the row's columns and the event's keys alike.
RESULT_FIELDS = (
    "failure",
    "public_score",
    "private_score",
    "public_metrics",
    "private_metrics",
    "runtime_s",
    "image_id",
    "dataset_hash",
)
_live_result, _logged_result = attrgetter(*RESULT_FIELDS), itemgetter(*RESULT_FIELDS)
NEVER_SCORED = ("public_score", "private_score", "public_metrics", "private_metrics")


@dataclass
class StateCheck:
    """Every disagreement between the live tables and the log (the first ``KEEP`` in
    words), and how many submissions were compared."""

    count: int = 0
    first: list[str] = field(default_factory=list)
    submissions: int = 0

    @property
    def agrees(self) -> bool:
        return self.count == 0

    def say(self, text: str) -> None:
        self.count += 1
        if len(self.first) < KEEP:
            self.first.append(text)

    def differ(self, what: str, name: str, live: object, logged: object) -> None:
        """Say so if the live value is not the logged one."""
        if live != logged:
            self.say(f"{what}: {name} is {_show(live)}, the log says {_show(logged)}")


def snapshot(session: Session) -> None:
    """Read the log and the tables as of one moment. On PostgreSQL that takes a
    REPEATABLE READ transaction (at READ COMMITTED a result recorded between two reads
    would look like tampering), so call it before the session reads anything; later it
    changes nothing. SQLite, for development, reads without one."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def verify_state(session: Session, *, batch: int = BATCH) -> StateCheck:
    """Compare the live state with the audit log; see the module's text for what is read.
    Run on a fresh session (or after ``snapshot``) so that every read sees one moment."""
    snapshot(session)
    check = StateCheck()
    challenges = {c.id: c for c in session.scalars(select(Challenge).order_by(Challenge.id))}
    bests = _check_submissions(session, check, challenges, batch)
    _check_bests(session, check, bests)
    check_decisions(session, check, challenges, batch)
    return check


def _show(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


@dataclass
class _Told:
    """What the log says of one submission."""

    received: object = None  # the event that created the row (received, or a re-run's)
    result: object = None  # its last result event
    data: dict = field(default_factory=dict)  # the result event's data
    selected: bool = False


def _told(events: list) -> _Told:
    told = _Told()
    for event in events:
        if event.kind in (RECEIVED, RERUN):
            told.received = event
        elif event.kind in RESULTS:
            told.result, told.data = event, audit.data_of(event.data)
        elif event.kind in SELECTIONS:
            told.selected = SELECTIONS[event.kind]
    return told


def _stream(session: Session, query, batch: int):
    return session.execute(query, execution_options={"yield_per": batch, "stream_results": True})


def _submission_events(session: Session, batch: int) -> Iterator[tuple[int, list]]:
    """The submission events grouped by the submission they are about, in its id order
    (a re-run's request is about the re-run's row)."""
    kind = AuditEvent.kind
    about = case(
        (kind == RERUN, audit.integer_field(session, "rerun")),
        else_=audit.integer_field(session, "submission"),
    ).label("about")
    kinds = [RECEIVED, RERUN, *RESULTS, *SELECTIONS]
    query = (
        select(about, AuditEvent.id, kind, AuditEvent.challenge_id, AuditEvent.data)
        .where(kind.in_(kinds), about.is_not(None))
        .order_by(about, AuditEvent.id)
    )
    for sid, events in groupby(_stream(session, query, batch), key=attrgetter("about")):
        yield sid, list(events)


def _merged(session: Session, batch: int) -> Iterator[tuple[int, object, list]]:
    """(id, row or None, its events) for every submission id a row or an event names."""
    columns = [getattr(Submission, c) for c in ("id", "challenge_id", "team_id", "status")]
    columns += [getattr(Submission, c) for c in RESULT_FIELDS]
    columns += [Submission.blob_sha256, Submission.rerun_of_id, Submission.selected]
    columns += [Submission.dry_run]
    rows = iter(_stream(session, select(*columns, Submission.created_at).order_by("id"), batch))
    groups = _submission_events(session, batch)
    row, group = next(rows, None), next(groups, None)
    while row is not None or group is not None:
        if group is None or (row is not None and row.id < group[0]):
            yield row.id, row, []
            row = next(rows, None)
        elif row is None or group[0] < row.id:
            yield group[0], None, group[1]
            group = next(groups, None)
        else:
            yield row.id, row, group[1]
            row, group = next(rows, None), next(groups, None)


def _check_submissions(session, check, challenges, batch) -> dict[int, list]:
    """Each row against its events; returns each team's best by the log:
    team -> [sort key, challenge id, submission id, score, entries]."""
    bests: dict[int, list] = {}
    rankings = {cid: ranking_of(c) for cid, c in challenges.items()}
    for sid, row, events in _merged(session, batch):
        what = f"submission {sid}"
        told = _told(events)
        if row is None:
            check.say(f"{what}: no such row, but the log records it (event {events[0].id})")
            continue
        check.submissions += 1
        if told.received is None:
            check.say(f"{what}: the row has no event in the log that received it")
        else:
            _check_received(check, what, row, told.received)
        _check_result(check, what, row, told)
        check.differ(what, "selected", row.selected, told.selected)
        _count_best(bests, rankings, row, told)
    return bests


def _check_received(check: StateCheck, what: str, row, event) -> None:
    data = audit.data_of(event.data)
    if event.kind == RECEIVED:
        logged = (data.get("team"), data.get("dry_run", False), data.get("sha256"), None)
        live = (row.team_id, row.dry_run, row.blob_sha256, row.rerun_of_id)
        if event.challenge_id == row.challenge_id and live == logged:
            return  # the usual case, at once
    check.differ(what, "challenge", row.challenge_id, event.challenge_id)
    if event.kind == RERUN:
        check.differ(what, "rerun_of", row.rerun_of_id, data.get("submission"))
        return
    check.differ(what, "team", row.team_id, data.get("team"))
    # A dry run is on no board: turning a row into one (or back) moves it on or off.
    check.differ(what, "dry_run", row.dry_run, data.get("dry_run", False))
    check.differ(what, "sha256", row.blob_sha256, data.get("sha256", row.blob_sha256))
    check.differ(what, "rerun_of", row.rerun_of_id, None)


def _check_result(check: StateCheck, what: str, row, told: _Told) -> None:
    final = row.status in FINAL_VALUES
    if told.result is None:
        if final:
            check.say(f"{what}: status is {row.status}, the log records no result")
        return
    check.differ(what, "status", row.status, RESULTS[told.result.kind])
    failed = told.result.kind != f"submission.{State.scored.value}"
    try:
        if _live_result(row) == _logged_result(told.data):
            return _check_team(check, what, row, told.data)  # the usual case, at once
    except KeyError:  # an event without some field (older, or the reconciler's)
        pass
    for name in RESULT_FIELDS:
        if name in told.data:
            check.differ(what, name, getattr(row, name), told.data[name])
        elif failed and name in NEVER_SCORED:
            check.differ(what, name, getattr(row, name), None)
    _check_team(check, what, row, told.data)


def _check_team(check: StateCheck, what: str, row, data: dict) -> None:
    if "team" in data:
        check.differ(what, "team", row.team_id, data["team"])


def _count_best(bests: dict, rankings: dict, row, told: _Told) -> None:
    """Count a submission the log says was scored towards its team's best, as
    ``evaluator.standings`` does: not a re-run, with a public score, in the board's order."""
    if told.result is None or told.result.kind != f"submission.{State.scored.value}":
        return
    score = told.data.get("public_score")
    team = told.data.get("team", row.team_id)
    if score is None or team is None or told.received is None or told.received.kind == RERUN:
        return
    ranking = rankings.get(told.result.challenge_id)
    if ranking is None:
        return
    key = ranking.sort_key(score, row.created_at, row.id)
    best = bests.get(team)
    if best is None:
        bests[team] = [key, told.result.challenge_id, row.id, score, 1]
        return
    best[4] += 1
    if key < best[0]:
        best[:4] = [key, told.result.challenge_id, row.id, score]


def _check_bests(session: Session, check: StateCheck, bests: dict[int, list]) -> None:
    """``team_bests`` (what the public board shows) against the bests the log gives."""
    columns = (TeamBest.team_id, TeamBest.submission_id, TeamBest.score, TeamBest.entries)
    live = {row.team_id: row for row in session.execute(select(*columns))}
    for team in sorted(live.keys() | bests.keys()):
        what = f"team {team}'s best on the public board"
        row, best = live.get(team), bests.get(team)
        if row is None:
            check.say(f"{what}: missing, the log says submission {best[2]} ({best[3]})")
        elif best is None:
            check.say(f"{what}: submission {row.submission_id}, the log has no scored result")
        else:
            check.differ(what, "submission", row.submission_id, best[2])
            check.differ(what, "score", row.score, best[3])
            check.differ(what, "entries", row.entries, best[4])
