"""Display names people choose (teams, users, organizations): one rule for every path in.

A name is shown to others, on boards and pages, so it must look like what it is:
no control or invisible characters (one team could otherwise pose as another with
a zero-width space or a right-to-left override), and two names that look the same
must be the same name. ``clean_name`` normalises (NFKC, whitespace collapsed to
single spaces) and refuses what cannot be shown; ``name_key`` is the form that
uniqueness compares (case folded as well).
"""

from __future__ import annotations

import unicodedata

from jiebang.errors import Invalid

# Control, format (zero-width, bidi overrides), private use, surrogate, unassigned,
# line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def clean_name(value: str | None, *, field: str = "name", low: int = 1, high: int = 100) -> str:
    """``value`` normalised for display, or ``Invalid`` naming the field and the fix."""
    text = unicodedata.normalize("NFKC", value or "")
    for position, char in enumerate(text, start=1):
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            raise Invalid(
                field,
                "The name holds an invisible or control character (%(char)s, character "
                "%(position)d); remove it and type the name again.",
                char=f"U+{ord(char):04X}",
                position=position,
            )
    text = " ".join(text.split())
    if not low <= len(text) <= high:
        raise Invalid(
            field, "Use a name of %(low)d to %(high)d visible characters.", low=low, high=high
        )
    return text


def name_key(name: str) -> str:
    """The form two names are compared in: normalised and case folded, so "Team A",
    "team\\u00a0a" and "ｔｅａｍ ａ" are one name."""
    text = " ".join(unicodedata.normalize("NFKC", name).split())
    return unicodedata.normalize("NFKC", text.casefold())
