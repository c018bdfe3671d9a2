"""Pages of a query, cut in SQL: the rows of one page and a count, two statements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    per_page: int


def page_of(session: Session, query: Select, *, page: int, per_page: int) -> Page:
    """Page ``page`` (from 1) of ``query``, which must be ordered (ties broken by a
    unique column, or rows could move between pages). Past the end, no items."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    total = session.scalar(counted)
    if total <= (page - 1) * per_page:
        return Page([], total, page, per_page)
    rows = session.scalars(query.offset((page - 1) * per_page).limit(per_page)).unique()
    return Page(list(rows), total, page, per_page)
