"""The challenge form's "Who may apply" fields: round, applicants, registration, terms.

Kept apart from ``web.challenge_spec`` so the form's main keys stay readable; both the
initial values of a draft and the ``challenge.yaml`` keys the form produces come from here.
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

from challenges.models import Challenge
from challenges.team_rules import registration_closes_at, teams_freeze_at

TERMS_FILES = {"en": "TERMS.md", "zh": "TERMS.zh.md"}


def _local(value: dt.datetime | None, zone: str) -> dt.datetime | None:
    if value is None:
        return None
    return value.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)


def initial(item: Challenge) -> dict:
    applicants = item.applicants or {}
    registration = item.registration or {}
    return {
        "round_tag": item.round_tag or "",
        "applicants_who": applicants.get("who", "individuals"),
        "max_partners": applicants.get("max_partners", 4),
        "registration_mode": registration.get("mode", ""),
        "registration_closes_at": _local(registration_closes_at(item), item.timezone),
        "teams_freeze_at": _local(teams_freeze_at(item), item.timezone),
        "terms_en": item.terms_en or "",
        "terms_zh": item.terms_zh or "",
    }


def to_spec(form, *, zone: zoneinfo.ZoneInfo, keep: Challenge | None, files: dict, where: dict):
    """The ``round``, ``applicants`` and ``registration`` keys (only those that differ
    from the defaults); the terms become bundle files in ``files``."""
    spec = {}
    where.update(
        {
            "round": "round_tag",
            "applicants": "max_partners",
            "applicants.who": "applicants_who",
            "applicants.max_partners": "max_partners",
            "registration": "registration_mode",
            "registration.closes_at": "registration_closes_at",
            "registration.teams_freeze_at": "teams_freeze_at",
            "registration.terms": "terms_en",
        }
    )
    if form.round_tag.data:
        spec["round"] = form.round_tag.data.strip()
    # Caps and the earlier-winner bar have no fields: a draft keeps its bundle's.
    applicants = dict(keep.applicants or {}) if keep is not None else {}
    applicants["who"] = form.applicants_who.data or "individuals"
    if form.max_partners.data is not None:
        applicants["max_partners"] = form.max_partners.data
    if applicants["who"] != "individuals" or (keep is not None and keep.applicants):
        spec["applicants"] = applicants
    if form.registration_mode.data:
        registration = {"mode": form.registration_mode.data}
        for key, field in (
            ("closes_at", form.registration_closes_at),
            ("teams_freeze_at", form.teams_freeze_at),
        ):
            if field.data is not None:
                registration[key] = field.data.replace(tzinfo=zone).isoformat()
        en, zh = (form.terms_en.data or "").strip(), (form.terms_zh.data or "").strip()
        if en or zh:
            for lang, text in (("en", en), ("zh", zh)):
                files[TERMS_FILES[lang]] = io.BytesIO(text.encode("utf-8"))
                where[TERMS_FILES[lang]] = f"terms_{lang}"
            registration["terms"] = dict(TERMS_FILES)
        spec["registration"] = registration
    return spec
