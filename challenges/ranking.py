"""The one definition of a board's order, used by every query that ranks.

Best score first in the metric's direction; between equal scores the earlier
submission, then the lower submission id, so the order in which workers finish
never changes a board. A NULL (or NaN, never stored) score never ranks: every
query that ranks filters it out, or sorts it last where it only picks candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from challenges.metrics import declared_metrics


@dataclass(frozen=True)
class Ranking:
    higher_is_better: bool

    def order_by(self, score, created_at, submission_id, *, nulls_last: bool = False) -> tuple:
        """The ORDER BY clauses that rank rows: best first, earlier, lower id."""
        best = score.desc() if self.higher_is_better else score.asc()
        return (best.nulls_last() if nulls_last else best, created_at.asc(), submission_id.asc())

    def beats(self, new: Any, old: Any) -> ColumnElement[bool]:
        """SQL: row ``new`` ranks before row ``old`` (each has ``score``, ``created_at``
        and ``submission_id`` columns), the same order as ``order_by``."""
        better = new.score > old.score if self.higher_is_better else new.score < old.score
        earlier = or_(
            new.created_at < old.created_at,
            and_(new.created_at == old.created_at, new.submission_id < old.submission_id),
        )
        return or_(better, and_(new.score == old.score, earlier))

    def sort_key(self, score: float, created_at, submission_id: int) -> tuple:
        """The same order in Python (for checks and tests)."""
        return (-score if self.higher_is_better else score, created_at, submission_id)


def ranking_of(challenge: Any) -> Ranking:
    """The order of ``challenge``'s boards: its ranking metric's direction, whether built-in
    or declared by its scoring program."""
    for declared in declared_metrics(challenge.metric, challenge.scoring):
        if declared.name == challenge.metric:
            return Ranking(declared.higher_is_better)
    raise ValueError(
        f"challenge {challenge.slug!r} does not report its metric {challenge.metric!r}"
    )
