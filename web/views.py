"""What a viewer may see; shared by the pages and the API so both tell the same."""

from __future__ import annotations

from challenges.models import Challenge
from challenges.policy import Action, can
from evaluator.models import Submission
from jiebang.accounts import User
from leaderboards.board import Entry
from leaderboards.decision import JudgingState
from leaderboards.models import Award
from web.errors import translate_message
from web.ext import db
from web.i18n import lang


def submission_json(sub: Submission, *, viewer: User | None) -> dict:
    """The private score shows only to those who may see the private board."""
    challenge = sub.challenge
    session = db()
    private_visible = can(session, viewer, Action.see_private_board, challenge)
    logs = can(session, viewer, Action.see_logs, challenge)
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
        "log": sub.log_excerpt if logs else None,
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
