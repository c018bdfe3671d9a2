"""Challenges, boards, awards and the lifecycle, over the API."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Response, g, request
from flask_babel import gettext as _

from challenges import eligibility, lifecycle
from challenges import service as challenges
from challenges.bundle import ChallengeBundleError, open_bundle
from challenges.policy import Action, can, require
from evaluator import dryrun, kit
from evaluator.queue import base_image
from jiebang import audit
from jiebang.accounts import get_user_by_email
from jiebang.db import utcnow
from jiebang.errors import Forbidden, Invalid, NotFound
from leaderboards.decision import award_of, winners_page
from leaderboards.lifecycle import close_now
from leaderboards.verify import snapshot, verify_state
from web.api import read
from web.api import schemas as s
from web.api.base import bearer_user, bp, paging, parse, token_required
from web.api.openapi import PAGING, doc
from web.api.submissions import UPLOAD
from web.errors import api_error
from web.ext import cached_board, db, services
from web.problems import words_text
from web.uploads import challenge_body, into_blobs, work_dir

BOARD_QUERY = {**PAGING, "board": {"type": "string", "enum": ["public", "private"]}}


def _public(slug: str):
    return challenges.get_challenge(db(), slug, public_only=True)


@bp.get("/challenges")
@doc(
    "List public challenges",
    s.ChallengeList,
    tag="challenges",
    query={**PAGING, "scenario": {"type": "string"}},
)
def list_challenges():
    page, per_page = paging()
    scenario = request.args.get("scenario") or None
    found = challenges.public_page(db(), scenario=scenario, page=page, per_page=per_page)
    return read.reply(read.paged(found, "challenges", s.ChallengeList, read.challenge_summary))


@bp.get("/challenges/<slug>")
@doc("One challenge with its rules and targets", s.ChallengeDetail, tag="challenges")
def get_challenge(slug: str):
    return read.reply(read.challenge_detail(_public(slug)))


@bp.get("/challenges/<slug>/leaderboard")
@doc(
    "The public board, or the private board where allowed", s.Board, tag="boards", query=BOARD_QUERY
)
def leaderboard(slug: str):
    item = _public(slug)
    board = request.args.get("board", "public")
    if board not in ("public", "private"):
        return api_error("invalid", _("board must be 'public' or 'private'."), 400, "board")
    private = board == "private"
    if private:
        require(db(), bearer_user(), Action.see_private_board, item)
    page, per_page = paging()
    found = cached_board(item, private=private, page=page, per_page=per_page)
    return read.reply(
        s.Board(
            board=board,
            challenge=slug,
            metric=item.metric,
            entries=read.board_entries(found.entries),
            page=page,
            per_page=per_page,
            total=found.total,
        )
    )


@bp.get("/challenges/<slug>/check-kit")
@doc(
    "The check kit: what `jiebang check` runs a submission on before it counts",
    s.CheckKit,
    tag="challenges",
    produces="application/x-tar",
    details="A plain tar: `kit.json` (a CheckKit), `sample/` (the sample inputs as "
    "/input holds them), and only where the sponsor ships sample labels `reference/` "
    "(the labels) and, for a scoring program, `scoring/` (the program). Public for a "
    "published challenge; a token lets a sponsor fetch a draft's.",
)
def check_kit(slug: str):
    item = challenges.get_challenge(db(), slug)
    # Who may see the challenge (its train download too): everyone once published.
    if not can(db(), bearer_user(), Action.view_challenge, item):
        raise NotFound("challenge", "No challenge %(slug)s.", slug=slug)
    if not eligibility.may_download(db(), challenge=item, user=bearer_user(), now=utcnow()):
        raise Forbidden(
            "registration",
            "Only approved teams of challenge %(slug)s download its data; send the token of "
            "a member of an approved team.",
            slug=slug,
        )
    found = kit.parts(item, services().blobs.path)
    if found is None:
        raise NotFound(
            "challenge",
            "Challenge %(slug)s ships no sample inputs, so it has no check kit.",
            slug=slug,
        )
    manifest = s.CheckKit.model_validate(kit.manifest(item)).model_dump_json().encode()
    # Streamed from the blobs as it is sent: the parts are plain paths, read after the
    # request's database session is gone.
    return Response(
        kit.stream(manifest, found),
        mimetype="application/x-tar",
        headers={"Content-Disposition": f'attachment; filename="{slug}-check-kit.tar"'},
    )


@bp.get("/challenges/<slug>/award")
@doc("The award: pending, awarded (to whom, how much) or unclaimed", s.AwardView, tag="boards")
def award(slug: str):
    item = _public(slug)
    return read.reply(read.award_view(item, award_of(db(), item)))


@bp.get("/winners")
@doc("The hall of winners: every decided challenge", s.Winners, tag="boards", query=PAGING)
def winners():
    page, per_page = paging()
    found = winners_page(db(), page=page, per_page=per_page)
    return read.reply(
        read.paged(found, "winners", s.Winners, lambda a: read.award_view(a.challenge, a))
    )


@bp.post("/challenges")
@challenge_body
@doc(
    "Sponsor: upload a challenge bundle (zip) as a draft",
    s.ChallengeCreated,
    tag="sponsors",
    status=201,
    scope="manage",
    multipart={"bundle": {"type": "string", "format": "binary", "required": True}},
)
@token_required("manage")
def push_challenge():
    # The role before a byte of the body is read (request.files reads it all, up to
    # gigabytes, onto the data disk); the service asks again with its organization.
    require(db(), g.api_user, Action.create_challenge)
    upload = request.files.get("bundle")
    if upload is None:
        raise Invalid("bundle", "Send the bundle zip as multipart form field 'bundle'.")
    session = db()
    with tempfile.TemporaryDirectory(prefix="jiebang-push-", dir=work_dir()) as tmp:
        path = Path(tmp) / "bundle.zip"
        upload.save(path)
        try:
            with open_bundle(path, workdir=Path(tmp)) as bundle:
                item = challenges.create_from_bundle(
                    session, bundle=bundle, blobs=services().blobs, actor=g.api_user
                )
        except ChallengeBundleError as exc:
            words = "; ".join(words_text(p) for p in exc.problems)
            return api_error("invalid_bundle", words, 400, "bundle")
    session.commit()
    return read.reply(s.ChallengeCreated(slug=item.slug, status=item.status), 201)


@bp.post("/challenges/<slug>/review")
@doc("Sponsor: send a draft for review", s.StatusChange, tag="sponsors", scope="manage")
@token_required("manage")
def request_review(slug: str):
    session = db()
    item = challenges.get_challenge(session, slug)
    lifecycle.request_review(session, item, actor=g.api_user)
    session.commit()
    return read.reply(s.StatusChange(slug=slug, status=item.status))


@bp.post("/challenges/<slug>/approve")
@doc("Admin: approve and publish", s.StatusChange, tag="admin", scope="manage")
@token_required("manage")
def approve(slug: str):
    session = db()
    # Before the look-up too, so nobody else can probe which drafts exist.
    require(session, g.api_user, Action.approve_challenge)
    item = challenges.get_challenge(session, slug)
    challenges.publish(session, item, actor=g.api_user)
    session.commit()
    return read.reply(s.StatusChange(slug=slug, status=item.status))


@bp.post("/challenges/<slug>/review-decision")
@doc(
    "Admin: approve (publish), refuse or request changes, with a comment for the sponsor",
    s.ReviewDecided,
    tag="admin",
    scope="manage",
    body=s.ReviewDecisionBody,
    details=(
        "refuse and request_changes need a comment and a challenge in review; both send it "
        "back to draft, the comment shown to its sponsor. The API acts at once: it asks no "
        "confirmation, as the pages do."
    ),
)
@token_required("manage")
def review_decision(slug: str):
    session = db()
    # Before the look-up too, so nobody else can probe which drafts exist.
    require(session, g.api_user, Action.approve_challenge)
    body = parse(s.ReviewDecisionBody)
    item = challenges.get_challenge(session, slug)
    lifecycle.review(session, item, decision=body.decision, comment=body.comment, actor=g.api_user)
    session.commit()
    reply = s.ReviewDecided(
        slug=slug, status=item.status, decision=body.decision, comment=body.comment.strip()
    )
    return read.reply(reply)


@bp.post("/challenges/<slug>/close")
@doc("Admin: close now and freeze the private board", s.StatusChange, tag="admin", scope="manage")
@token_required("manage")
def close(slug: str):
    session = db()
    item = _public(slug)
    status = close_now(session, item, actor=g.api_user)
    session.commit()
    return read.reply(s.StatusChange(slug=slug, status=status))


@bp.post("/challenges/<slug>/judges")
@doc(
    "Admin: assign a judge",
    s.JudgeAssigned,
    tag="admin",
    status=201,
    scope="manage",
    body=s.JudgeAssign,
)
@token_required("manage")
def assign_judge(slug: str):
    session = db()
    # Before the look-up too, so nobody else can probe emails.
    require(session, g.api_user, Action.assign_judge)
    judge = get_user_by_email(session, parse(s.JudgeAssign).email)
    lifecycle.assign_judge(session, _public(slug), judge=judge, actor=g.api_user)
    session.commit()
    return read.reply(s.JudgeAssigned(slug=slug, judge=judge.email), 201)


@bp.delete("/challenges/<slug>/judges/<email>")
@doc("Admin: take a judge off a challenge", s.JudgeAssigned, tag="admin", scope="manage")
@token_required("manage")
def unassign_judge(slug: str, email: str):
    session = db()
    require(session, g.api_user, Action.assign_judge)
    judge = get_user_by_email(session, email)
    lifecycle.unassign_judge(session, _public(slug), judge=judge, actor=g.api_user)
    session.commit()
    return read.reply(s.JudgeAssigned(slug=slug, judge=judge.email))


@bp.post("/challenges/<slug>/dry-runs")
@into_blobs
@doc(
    "Sponsor: a dry run of a reference solution on the hidden data, before review",
    s.SubmissionCreated,
    tag="sponsors",
    status=201,
    scope="manage",
    multipart=UPLOAD,
    details=(
        "Runs an image archive or code bundle exactly as a team's submission runs, scorer "
        "included, in any status before close (a draft too). It belongs to no team: on no "
        "board and no quota. One at a time per challenge; read the results with GET."
    ),
)
@token_required("manage")
def create_dry_run(slug: str):
    session = db()
    item = challenges.get_challenge(session, slug)
    # Before the body is taken in: nobody else can probe which drafts exist, and a
    # closed challenge or one with a dry run under way refuses before the upload.
    dryrun.check_may_dry_run(session, user=g.api_user, challenge=item, now=utcnow())
    file = request.files.get("file")
    if file is None:
        raise Invalid("file", "Send the reference solution as multipart form field 'file'.")
    svc = services()
    sub = dryrun.submit_dry_run_and_enqueue(
        session,
        redis=svc.redis,
        user=g.api_user,
        challenge=item,
        upload=file.stream,
        kind=request.form.get("kind", "image"),
        blobs=svc.blobs,
        settings=svc.settings,
        note=request.form.get("note", ""),
    )
    return read.reply(s.SubmissionCreated(id=sub.id, status=sub.status), 201)


@bp.get("/challenges/<slug>/dry-runs")
@doc("Sponsor: a challenge's dry runs, newest first", s.DryRunList, tag="sponsors", scope="read")
@token_required("read")
def list_dry_runs(slug: str):
    session = db()
    item = challenges.get_challenge(session, slug)
    require(session, g.api_user, Action.dry_run, item)
    return read.reply(read.dry_run_list(item, dryrun.dry_runs(session, item)))


STATE_SHOWN = 10  # disagreements the head's summary spells out; the CLI lists them all


@bp.get("/audit/head")
@doc(
    "Staff: the audit log's length and newest hash. Keep it; a later `jiebang audit verify "
    "--head HASH` shows whether any event was removed since. With state=true it also "
    "checks the live submissions, boards, verdicts and awards against the log (a pass "
    "over the whole log: about a minute at 500,000 submissions, so only when asked)",
    s.AuditHead,
    tag="admin",
    scope="read",
    query={"state": {"type": "boolean", "default": False}},
)
@token_required("read")
def audit_head():
    # Not everyone: its changes would show anyone the platform's activity.
    require(db(), g.api_user, Action.see_audit)
    flag = request.args.get("state", "false").lower()
    if flag not in ("true", "false"):
        return api_error("invalid", _("state must be 'true' or 'false'."), 400, "state")
    if flag == "false":
        events, head = audit.head(db())
        return read.reply(s.AuditHead(events=events, head=head))
    db().commit()  # ends the token look-up's transaction: the head and the check share one
    snapshot(db())
    events, head = audit.head(db())
    state = verify_state(db())
    return read.reply(
        s.AuditHead(
            events=events,
            head=head,
            state_agrees=state.agrees,
            disagreements=state.count,
            first_disagreements=state.first[:STATE_SHOWN],
        )
    )


@bp.get("/base-images")
@doc(
    "The platform's base images and their layers (a thin upload may leave these out)",
    s.BaseImages,
    tag="submissions",
)
def base_images():
    published = base_image(services().redis, services().settings.queue_name)
    return read.reply(s.BaseImages(images=[published] if published else []))
