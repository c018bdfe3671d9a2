"""Durations, memory and sizes in the reader's language, one way everywhere (issue 15):
"120 s" / "120 秒", "2 min" / "2 分钟", "1,024 MB". Templates use the filters ``duration``,
``megabytes`` and ``filesize``; no template writes "s", "秒" or "MB" by hand."""

from __future__ import annotations

from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import gettext as _


def _number(value: float, digits: int | None, *, most: int = 3) -> str:
    """``value`` with the locale's grouping: ``digits`` fixed decimals, or as few as it
    needs up to ``most``."""
    if digits is None:
        pattern = "#,##0." + "#" * most
    else:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=get_locale() or "en")


def duration(seconds: float | None, digits: int | None = None, *, exact: bool = False) -> str:
    """A time span: whole minutes or hours in those units (a limit of 120 s is "2 min"),
    anything else in seconds; ``exact`` keeps seconds (a measured run time)."""
    if seconds is None:
        return "—"
    if not exact and seconds >= 3600 and seconds % 3600 == 0:
        return _("%(n)s h", n=_number(seconds / 3600, None))
    if not exact and seconds >= 60 and seconds % 60 == 0:
        return _("%(n)s min", n=_number(seconds / 60, None))
    return _("%(n)s s", n=_number(seconds, digits))


def megabytes(value: float | None, digits: int | None = None) -> str:
    """Memory in MB (MiB, as the sandbox counts it), the same in both languages."""
    if value is None:
        return "—"
    return _("%(n)s MB", n=_number(value, digits))


def filesize(size: int | None) -> str:
    """A file's size in bytes, in the largest unit (KB, MB, GB) that keeps it at least 1."""
    if size is None:
        return "—"
    if size < 1024:
        return _("%(n)s B", n=_number(size, 0))
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            value = _number(size / factor, None, most=1)
            return {
                "GB": _("%(n)s GB", n=value),
                "MB": _("%(n)s MB", n=value),
                "KB": _("%(n)s KB", n=value),
            }[unit]
    raise AssertionError("unreachable")  # pragma: no cover


def js_units() -> dict:
    """The patterns the page's script fills in when it updates a live run time or memory."""
    return {"seconds": _("%(n)s s", n="{n}"), "megabytes": _("%(n)s MB", n="{n}")}
