"""Notifications of the proposal stage: a reviewer assigned, a team shortlisted or not."""

from __future__ import annotations

from sqlalchemy.orm import Session

from challenges.models import Challenge
from jiebang.notifications import N_, Kind, notify, register

for _kind in (
    Kind(
        "proposal.reviewer_assigned",
        N_("Proposals to review: %(challenge)s"),
        N_("The sponsor of %(challenge)s asks you to review its teams' proposals."),
        label=N_("You are asked to review proposals"),
        audience=N_("the assigned reviewer"),
    ),
    Kind(
        "proposal.shortlisted",
        N_("Shortlisted: %(challenge)s"),
        N_("Your team %(team)s is on the shortlist of %(challenge)s and may now submit."),
        label=N_("Your team is shortlisted"),
        audience=N_("the teams' members"),
    ),
    Kind(
        "proposal.not_shortlisted",
        N_("Not shortlisted: %(challenge)s"),
        N_("Your team %(team)s is not on the shortlist of %(challenge)s."),
        label=N_("Your team is not shortlisted"),
        audience=N_("the teams' members"),
    ),
):
    register(_kind)


def send(session: Session, kind: str, user_ids: list[int], challenge: Challenge, **params):
    if user_ids:
        notify(
            session,
            kind=kind,
            user_ids=user_ids,
            params={
                "challenge": {
                    "en": challenge.title_en,
                    "zh": challenge.title_zh or challenge.title_en,
                },
                "slug": challenge.slug,
                **params,
            },
            link=f"/challenges/{challenge.slug}/proposal"
            if kind != "proposal.reviewer_assigned"
            else f"/review/{challenge.slug}",
        )
