"""A board as a CSV file: what the leaderboard page shows, for a spreadsheet.

UTF-8 with a byte-order mark: Excel, as sponsors and teams in China mostly open it,
reads a CSV without one in the system's code page (GBK) and garbles Chinese team
names; with it, every spreadsheet program reads UTF-8. A cell of text that starts
with ``= + - @`` (or a tab or carriage return) gets a leading apostrophe, so a team
named ``=HYPERLINK(...)`` stays text instead of becoming a formula (CSV injection).
Numbers are written as the page writes them (four decimals), never quoted.
"""

from __future__ import annotations

import csv
import io
import zoneinfo

from flask import Response
from flask_babel import gettext as _

from challenges.models import Challenge
from leaderboards.board import Entry
from web.ext import cached_board
from web.filters import metric_title

PAGE = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def all_entries(item: Challenge, *, private: bool) -> list[Entry]:
    """The whole board, page after page of the board cache."""
    entries, page = [], 1
    while True:
        found = cached_board(item, private=private, page=page, per_page=PAGE)
        entries.extend(found.entries)
        if page >= found.pages:
            return entries
        page += 1


def board_csv(item: Challenge, entries: list[Entry]) -> bytes:
    others = [m for m in item.metrics if m.name != item.metric]
    score = metric_title(item, item.metric) if others else _("Score")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Rank"),
            _("Team"),
            safe_text(score),
            *(safe_text(metric_title(item, m.name)) for m in others),
            _("Entries"),
            _("Meets targets"),
            _("Submitted"),
        ]
    )
    yes, no = _("yes"), _("no")
    zone = zoneinfo.ZoneInfo(item.timezone)
    for e in entries:
        writer.writerow(
            [
                e.rank,
                safe_text(e.team),
                _number(e.score),
                *(_number(e.metrics.get(m.name)) for m in others),
                e.entries,
                yes if e.meets_targets else no,
                e.submitted_at.astimezone(zone).isoformat(timespec="seconds"),
            ]
        )
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def download(item: Challenge, *, private: bool) -> Response:
    """The caller checked that the viewer may see this board."""
    body = board_csv(item, all_entries(item, private=private))
    name = f"{item.slug}-{'private' if private else 'public'}-leaderboard.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
