"""What a viewer may see; shared by the pages and the API so both tell the same."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.lifecycle import is_judge
from challenges.models import Challenge
from evaluator.models import Submission
from jiebang.accounts import Membership, Role, User
from leaderboards.board import Entry
from leaderboards.decision import JudgingState, may_see_private
from leaderboards.models import Award
from web.errors import translate_message
from web.ext import db
from web.i18n import lang


def is_member(session: Session, user: User, team_id: int) -> bool:
    query = select(Membership.id).where(
        Membership.team_id == team_id, Membership.user_id == user.id
    )
    return session.scalar(query) is not None


def is_staff_for(session: Session, user: User, challenge: Challenge) -> bool:
    """Admins; after close also the sponsor's members and the assigned judges."""
    if user.role == Role.admin:
        return True
    if not challenge.is_after_close_now():
        return False
    if user.role == Role.sponsor and user.org_id == challenge.sponsor_org_id:
        return True
    return is_judge(session, user=user, challenge=challenge)


def may_view_submission(session: Session, user: User, sub: Submission) -> bool:
    if sub.rerun_of_id is None and is_member(session, user, sub.team_id):
        return True
    return is_staff_for(session, user, sub.challenge)


def submission_json(sub: Submission, *, viewer: User | None) -> dict:
    """The private score shows only to those who may see the private board."""
    challenge = sub.challenge
    session = db()
    private_visible = may_see_private(session, viewer, challenge)
    staff = viewer is not None and is_staff_for(session, viewer, challenge)
    return {
        "id": sub.id,
        "challenge": challenge.slug,
        "team": sub.team.name,
        "kind": sub.kind,
        "status": sub.status,
        "final": sub.is_final,
        "failure": sub.failure,
        "message": translate_message(sub.message_code, sub.message_params),
        "message_code": sub.message_code,
        "public_score": sub.public_score,
        "private_score": sub.private_score if private_visible else None,
        "runtime_s": sub.runtime_s,
        "peak_memory_mb": sub.peak_memory_mb,
        "exit_code": sub.exit_code,
        "log": sub.log_excerpt if (challenge.show_logs or staff) else None,
        "selected": sub.selected,
        "rerun_of": sub.rerun_of_id,
        "sha256": sub.blob_sha256,
        "size": sub.size,
        "note": sub.note,
        "submitted_at": sub.created_at.isoformat(),
        "finished_at": sub.finished_at.isoformat() if sub.finished_at else None,
    }


def challenge_json(item: Challenge, *, full: bool = False) -> dict:
    language = lang()
    data = {
        "slug": item.slug,
        "title": item.title(language),
        "title_en": item.title_en,
        "title_zh": item.title_zh,
        "sponsor": item.sponsor.slug,
        "scenario": item.scenario,
        "status": item.effective_status_now(),
        "metric": item.metric,
        "opens_at": item.opens_at.isoformat(),
        "closes_at": item.closes_at.isoformat(),
        "prize": {
            "amount": str(item.prize_amount),
            "currency": item.prize_currency,
            "rule": item.prize_rule,
        },
    }
    if full:
        data.update(
            summary=item.summary(language),
            description_md=item.description_md,
            targets=item.targets,
            timezone=item.timezone,
            limits={
                "daily_submissions": item.daily_submissions,
                "total_submissions": item.total_submissions,
                "final_selections": item.final_selections,
                "team_size": item.team_size,
                "running_submissions": item.running_submissions,
            },
            resources={
                "cpus": item.cpus,
                "memory_mb": item.memory_mb,
                "time_limit_s": item.time_limit_s,
            },
            public_fraction=item.public_fraction,
        )
    return data


def entry_json(e: Entry) -> dict:
    return {
        "rank": e.rank,
        "team": e.team,
        "score": e.score,
        "submission_id": e.submission_id,
        "submitted_at": e.submitted_at.isoformat(),
        "meets_targets": e.meets_targets,
        "runtime_s": e.runtime_s,
        "peak_memory_mb": e.peak_memory_mb,
        "entries": e.entries,
    }


def award_json(item: Challenge, award: Award | None) -> dict:
    if award is None:
        return {"challenge": item.slug, "status": "pending", "team": None}
    return {
        "challenge": item.slug,
        "title": item.title(lang()),
        "status": award.status,
        "team": award.team.name if award.team else None,
        "submission_id": award.submission_id,
        "score": award.score,
        "amount": str(award.amount),
        "currency": award.currency,
        "decided_at": award.decided_at.isoformat(),
    }


def judging_json(item: Challenge, state: JudgingState) -> dict:
    winner = state.winner
    return {
        "challenge": item.slug,
        "status": item.status,
        "provisional_winner": entry_json(winner) if winner else None,
        "rerun": None
        if state.rerun is None
        else {
            "id": state.rerun.id,
            "status": state.rerun.status,
            "public_score": state.rerun.public_score,
            "private_score": state.rerun.private_score,
            "failure": state.rerun.failure,
        },
        "reproduces": state.reproduces,
    }
