"""The state check's decisions (``leaderboards.verify``): each frozen private board
against the digest recorded at its freeze, the verdicts and the award against their
events. One pass over these events (a few per challenge), one over their rows."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from itertools import zip_longest
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiebang import audit
from jiebang.audit import AuditEvent
from leaderboards.board import private_board
from leaderboards.decision import _digest as board_digest
from leaderboards.models import Award, Verdict

if TYPE_CHECKING:
    from leaderboards.verify import StateCheck

KINDS = ("board.frozen", "verdict.approve", "verdict.disqualify", "award.awarded")
KINDS += ("award.unclaimed",)


def check_decisions(session: Session, check: StateCheck, challenges: dict, batch: int) -> None:
    """Freezes, verdicts and awards: one pass over their events, one over their rows."""
    frozen: dict[int, object] = {}
    verdicts: dict[int, list] = defaultdict(list)
    awards: dict[int, object] = {}
    query = select(AuditEvent).where(AuditEvent.kind.in_(KINDS)).order_by(AuditEvent.id)
    for event in session.scalars(query.execution_options(yield_per=batch)):
        if event.kind == "board.frozen":
            frozen[event.challenge_id] = event
        elif event.kind.startswith("award."):
            awards[event.challenge_id] = event
        else:
            verdicts[event.challenge_id].append(event)
    for cid, challenge in challenges.items():
        what = f"challenge {challenge.slug}"
        if cid in frozen:
            _check_board(session, check, what, challenge, frozen[cid])
        elif challenge.frozen_at is not None:
            check.say(f"{what}: frozen at {challenge.frozen_at}, the log records no freeze")
    rows = session.scalars(select(Verdict).order_by(Verdict.id))
    by_challenge: dict[int, list] = defaultdict(list)
    for verdict in rows:
        by_challenge[verdict.challenge_id].append(verdict)
    for cid in sorted(by_challenge.keys() | verdicts.keys()):
        _check_verdicts(check, by_challenge[cid], verdicts[cid])
    live = {a.challenge_id: a for a in session.scalars(select(Award))}
    for cid in sorted(live.keys() | awards.keys()):
        slug = challenges[cid].slug if cid in challenges else cid
        _check_award(check, f"the award of challenge {slug}", live.get(cid), awards.get(cid))


def _check_board(session, check: StateCheck, what: str, challenge, event) -> None:
    data = audit.data_of(event.data)
    board = private_board(session, challenge)
    if board_digest(board) == data.get("digest"):
        return
    now = [[e.team_id, e.submission_id, e.score] for e in board[: len(data.get("top", []))]]
    for rank, (live, logged) in enumerate(zip_longest(now, data.get("top", [])), start=1):
        if live != logged:
            check.say(
                f"{what}: the frozen private board's rank {rank} is now {_entry(live)}, "
                f"the log's freeze (event {event.id}) says {_entry(logged)}"
            )
            return
    check.say(
        f"{what}: the frozen private board no longer matches the digest recorded at the "
        f"freeze (event {event.id}), below its top {len(data.get('top', []))}"
    )


def _entry(entry: list | None) -> str:
    if entry is None:
        return "nobody"
    team, submission, score = entry
    return f"team {team} (submission {submission}, {score})"


def _check_verdicts(check: StateCheck, rows: list, events: list) -> None:
    for row, event in zip_longest(rows, events):
        if event is None:
            check.say(f"verdict {row.id}: the log records no such verdict")
            continue
        if row is None:
            check.say(f"the verdict of event {event.id} has no row")
            continue
        data = audit.data_of(event.data)
        what = f"verdict {row.id}"
        check.differ(what, "decision", row.decision, event.kind.partition(".")[2])
        check.differ(what, "team", row.team_id, data.get("team"))
        check.differ(what, "submission", row.submission_id, data.get("submission"))
        check.differ(what, "rerun", row.rerun_id, data.get("rerun"))
        check.differ(what, "reason", row.reason, data.get("reason", row.reason))


def _check_award(check: StateCheck, what: str, row, event) -> None:
    if event is None:
        check.say(f"{what}: {row.status} (team {row.team_id}), the log records no award")
        return
    if row is None:
        check.say(f"{what}: no row, the log records one (event {event.id})")
        return
    data = audit.data_of(event.data)
    check.differ(what, "status", row.status, event.kind.partition(".")[2])
    check.differ(what, "team", row.team_id, data.get("team"))
    check.differ(what, "submission", row.submission_id, data.get("submission"))
    if "amount" in data:
        check.differ(what, "amount", row.amount, Decimal(data["amount"]))
        check.differ(what, "currency", row.currency, data.get("currency"))
