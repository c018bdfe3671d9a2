"""API answers built from the read models of ``web.api.schemas``.

Every JSON body of a read route is one of those models, dumped: the OpenAPI
document is generated from the same models, so the two cannot drift. The rows
come from services that page in SQL; what the viewer may see is decided once per
request (``web.views.sight``) and handed in here.
"""

from __future__ import annotations

from flask import jsonify
from pydantic import BaseModel, TypeAdapter

from challenges.models import Challenge
from evaluator.models import Submission
from evaluator.queueing import Place
from jiebang.paging import Page
from leaderboards.board import Entry
from leaderboards.decision import JudgingState
from leaderboards.models import Award
from web.api import schemas as s
from web.errors import translate_message
from web.i18n import lang
from web.views import Sight


def reply(model: BaseModel, status: int = 200):
    """The model as the response body; fields never set (optional ones left out of
    an answer, such as a pending award's) stay absent rather than null."""
    return jsonify(model.model_dump(exclude_unset=True)), status


def paged(page: Page, key: str, model: type[s.Page], build) -> s.Page:
    """A page of a list: ``build`` makes each item's read model."""
    return model(
        **{key: [build(item) for item in page.items]},
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )


def submission_view(sub: Submission, seen: Sight, place: Place | None = None) -> s.SubmissionView:
    """``place``: where a queued submission stands (the read of one submission only)."""
    queued = {}
    if place is not None:
        queued = {"queue_position": place.ahead, "estimated_start_s": place.estimated_start_s}
    return s.SubmissionView(
        **queued,
        id=sub.id,
        challenge=sub.challenge.slug,
        team=sub.team.name if sub.team is not None else None,
        kind=sub.kind,
        status=sub.status,
        final=sub.is_final,
        failure=sub.failure,
        message=translate_message(sub.message_code, sub.message_params),
        message_code=sub.message_code,
        public_score=sub.public_score,
        private_score=sub.private_score if seen.private_scores else None,
        public_metrics=sub.public_metrics,
        private_metrics=sub.private_metrics if seen.private_scores else None,
        runtime_s=sub.runtime_s,
        peak_memory_mb=sub.peak_memory_mb,
        exit_code=sub.exit_code,
        log=sub.log_excerpt if seen.logs else None,
        scorer_log=sub.scorer_log if seen.scorer_logs else None,
        selected=sub.selected,
        rerun_of=sub.rerun_of_id,
        sha256=sub.blob_sha256,
        size=sub.size,
        note=sub.note,
        submitted_at=sub.created_at,
        finished_at=sub.finished_at,
    )


# Dry runs are read by those who made them: the sponsor and the administrators.
SEE_ALL = Sight(private_scores=True, logs=True, scorer_logs=True)


def dry_run_list(item: Challenge, subs: list[Submission]) -> s.DryRunList:
    return s.DryRunList(
        challenge=item.slug, dry_runs=[submission_view(sub, SEE_ALL) for sub in subs]
    )


def submission_json(sub: Submission, seen: Sight, place: Place | None = None) -> dict:
    """The same view as a dict, for pages (the submission page and its status poll)."""
    return submission_view(sub, seen, place).model_dump()


def challenge_summary(item: Challenge) -> s.ChallengeSummary:
    return s.ChallengeSummary(**_summary_fields(item, lang()))


def challenge_detail(item: Challenge) -> s.ChallengeDetail:
    language = lang()
    return s.ChallengeDetail(
        **_summary_fields(item, language),
        metrics=[
            s.MetricView(
                name=m.name,
                title=m.title(language),
                title_en=m.title_en,
                title_zh=m.title_zh,
                higher_is_better=m.higher_is_better,
            )
            for m in item.metrics
        ],
        scoring_program=item.scoring is not None,
        summary=item.summary(language),
        description_md=item.description_md,
        description_md_zh=item.description_md_zh,
        targets=item.targets,
        timezone=item.timezone,
        limits=s.Limits.model_validate(item, from_attributes=True),
        resources=s.Resources.model_validate(item, from_attributes=True),
        public_fraction=item.public_fraction,
    )


def _summary_fields(item: Challenge, language: str) -> dict:
    return {
        "slug": item.slug,
        "title": item.title(language),
        "title_en": item.title_en,
        "title_zh": item.title_zh,
        "sponsor": item.sponsor.slug,
        "scenario": item.scenario,
        "status": item.effective_status_now(),
        "metric": item.metric,
        "opens_at": item.opens_at,
        "closes_at": item.closes_at,
        "prize": s.Prize(
            amount=item.prize_amount, currency=item.prize_currency, rule=item.prize_rule
        ),
    }


def board_entry(entry: Entry) -> s.BoardEntry:
    return s.BoardEntry.model_validate(entry, from_attributes=True)


_ENTRIES = TypeAdapter(list[s.BoardEntry])


def board_entries(entries: list[Entry]) -> list[s.BoardEntry]:
    """A page of entries in one call (the cached board's path: kept short)."""
    return _ENTRIES.validate_python(entries, from_attributes=True)


def award_view(item: Challenge, award: Award | None) -> s.AwardView:
    if award is None:
        return s.AwardView(challenge=item.slug, status="pending", team=None)
    return s.AwardView(
        challenge=item.slug,
        title=item.title(lang()),
        status=award.status,
        team=award.team.name if award.team else None,
        submission_id=award.submission_id,
        score=award.score,
        amount=award.amount,
        currency=award.currency,
        decided_at=award.decided_at,
    )


def judging_view(item: Challenge, state: JudgingState) -> s.JudgingView:
    rerun = state.rerun
    return s.JudgingView(
        challenge=item.slug,
        status=item.status,
        provisional_winner=board_entry(state.winner) if state.winner else None,
        rerun=None if rerun is None else s.RerunView.model_validate(rerun, from_attributes=True),
        reproduces=state.reproduces,
    )
