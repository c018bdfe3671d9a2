"""Submissions over the API: create, read, list, select for the private board; their
signed receipts and the keys that check them."""

from __future__ import annotations

from flask import g, jsonify, request
from flask_babel import gettext as _

from challenges import service as challenges
from challenges.policy import Action, require
from challenges.teams import team_of
from evaluator import queueing
from evaluator.intake import submit_and_enqueue
from evaluator.listing import one_submission, team_submissions
from evaluator.selection import set_selected
from jiebang.errors import NotFound
from jiebang.paging import Page
from jiebang.receipts import keyring
from leaderboards.receipts import receipt
from web.api import read
from web.api import schemas as s
from web.api.base import bp, paging, token_required
from web.api.openapi import PAGING, doc
from web.errors import api_error
from web.ext import client_key, db, limiter, services, submit_limit
from web.uploads import into_blobs, is_raw_upload
from web.views import sight

# auto: decided from the file's first bytes (a zip is a bundle), as the client does.
KIND = {"type": "string", "enum": ["image", "bundle", "auto"], "default": "image"}
NOTE = {"type": "string", "maxLength": 200}
UPLOAD = {
    "file": {"type": "string", "format": "binary", "required": True},
    "kind": KIND,
    "note": NOTE,
}


def _user_key() -> str:
    """Rate limits on submissions count per account, not per address."""
    user = getattr(g, "api_user", None)
    return f"{client_key()}:user:{user.id}" if user is not None else client_key()


@bp.post("/challenges/<slug>/submissions")
@into_blobs
@doc(
    "Submit an image archive (docker save) or a code bundle (zip)",
    s.SubmissionCreated,
    tag="submissions",
    status=201,
    scope="submit",
    multipart=UPLOAD,
    raw_body=True,
    query={"kind": KIND, "note": NOTE},
    details=(
        "Send the file as the request body with `Content-Type: application/octet-stream` and "
        "`kind` and `note` in the query string (the fastest way: permission, quota and size "
        "are checked before the body is read), or as multipart form field `file` with `kind` "
        "and `note` as form fields."
    ),
)
@token_required("submit")
@limiter.limit(submit_limit, key_func=_user_key)
def create_submission(slug: str):
    session = db()
    if is_raw_upload(request):
        # Permission and quota are checked before a byte of the body is read.
        upload, fields, size = request.stream, request.args, request.content_length
    else:
        file = request.files.get("file")
        if file is None:
            return api_error(
                "invalid",
                _(
                    "Send the file as the request body (Content-Type: application/octet-stream) "
                    "or as multipart form field 'file'."
                ),
                400,
                "file",
            )
        upload, fields, size = file.stream, request.form, None
    svc = services()
    submission = submit_and_enqueue(
        session,
        redis=svc.redis,
        user=g.api_user,
        challenge=challenges.get_challenge(session, slug, public_only=True),
        upload=upload,
        kind=fields.get("kind", "image"),
        blobs=svc.blobs,
        settings=svc.settings,
        note=fields.get("note", ""),
        declared_size=size,
    )
    return read.reply(s.SubmissionCreated(id=submission.id, status=submission.status), 201)


@bp.get("/challenges/<slug>/submissions")
@doc(
    "Your team's submissions to a challenge, newest first",
    s.SubmissionList,
    tag="submissions",
    scope="read",
    query=PAGING,
)
@token_required("read")
def list_submissions(slug: str):
    session = db()
    page, per_page = paging()
    challenge = challenges.get_challenge(session, slug, public_only=True)
    team = team_of(session, user=g.api_user, challenge=challenge)
    if team is None:
        found = Page([], 0, page, per_page)
    else:
        found = team_submissions(session, team_id=team.id, page=page, per_page=per_page)
    seen = sight(session, g.api_user, challenge)
    return read.reply(
        read.paged(found, "submissions", s.SubmissionList, lambda r: read.submission_view(r, seen))
    )


@bp.get("/submissions/<id:submission_id>")
@doc(
    "One submission: status, failure, scores, run time, memory",
    s.SubmissionView,
    tag="submissions",
    scope="read",
)
@token_required("read")
def get_submission(submission_id: int):
    sub = one_submission(db(), submission_id)
    if sub is None:
        raise NotFound("submission", "No submission %(id)s among your teams'.", id=submission_id)
    require(db(), g.api_user, Action.see_submission, sub)  # someone else's: the same 404
    svc = services()
    place = queueing.place_in_queue(db(), sub, redis=svc.redis, queue_name=svc.settings.queue_name)
    return read.reply(read.submission_view(sub, sight(db(), g.api_user, sub.challenge), place))


@bp.post("/submissions/<id:submission_id>/cancel")
@doc(
    "Cancel a submission still waiting in the queue; it costs no quota",
    s.SubmissionView,
    tag="submissions",
    scope="submit",
    details=(
        "Any member of the submission's team. 409 once a worker has started it (or it has "
        "finished): a run under way cannot be cancelled."
    ),
)
@token_required("submit")
def cancel_submission(submission_id: int):
    session = db()
    svc = services()
    sub = queueing.cancel(session, user=g.api_user, submission_id=submission_id)
    session.commit()
    queueing.forget_job(svc.redis, sub, queue_name=svc.settings.queue_name)
    return read.reply(read.submission_view(sub, sight(session, g.api_user, sub.challenge)))


@bp.route("/submissions/<id:submission_id>/select", methods=["POST", "DELETE"])
@doc(
    "Choose (POST) or drop (DELETE) a final selection",
    s.Selection,
    tag="submissions",
    scope="submit",
)
@token_required("submit")
def select_submission(submission_id: int):
    session = db()
    chosen = request.method == "POST"
    sub = set_selected(session, user=g.api_user, submission_id=submission_id, selected=chosen)
    session.commit()
    return read.reply(s.Selection(id=sub.id, selected=sub.selected))


@bp.get("/submissions/<id:submission_id>/receipt")
@doc(
    "A scored submission's signed receipt: what the audit log recorded when it was scored",
    s.Receipt,
    tag="submissions",
    scope="read",
    details=(
        "Signed with the platform's Ed25519 key (`GET /api/v1/keys`); check it offline with "
        "`jiebang receipt verify FILE --key KEY`. 404 while the submission is not scored."
    ),
)
@token_required("read")
def get_receipt(submission_id: int):
    sub = one_submission(db(), submission_id)
    if sub is None:
        raise NotFound("submission", "No submission %(id)s among your teams'.", id=submission_id)
    require(db(), g.api_user, Action.see_submission, sub)
    # The signed dict as it is: a model would turn 1 into 1.0 and break the signature.
    return jsonify(receipt(db(), sub, keyring(services().settings)))


@bp.get("/keys")
@doc(
    "The platform's public keys that sign receipts: the current one and the retired ones",
    s.PublicKeys,
    tag="submissions",
)
def public_keys():
    published = keyring(services().settings).published()
    return read.reply(s.PublicKeys(keys=[s.PublicKeyView(**vars(k)) for k in published]))
