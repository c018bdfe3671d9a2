"""Receipts on the web: a submission's download, the award's chain, the public keys.

A blueprint of its own, nested in the submissions one (``web.submissions``); the
award template asks ``receipt_chain(award)`` for the chain it shows.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template
from flask_login import login_required

from challenges import service as challenges
from challenges.policy import Action
from evaluator.models import Submission
from jiebang.errors import NotFound
from jiebang.receipts import Keyring, keyring
from leaderboards.models import Award
from leaderboards.receipts import AwardChain, award_chain, receipt, scored_event
from web.ext import db, services
from web.roles import allowed_or_404

bp = Blueprint("receipts", __name__)


def keys() -> Keyring:
    return keyring(services().settings)


def has_receipt(sub: Submission) -> bool:
    return sub.status == "scored" and scored_event(db(), sub) is not None


def _download(body: dict, submission_id: int) -> Response:
    # Indented for reading; the signature is over the canonical form, not these bytes.
    text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    name = f"jiebang-receipt-{submission_id}.json"
    return Response(
        text,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/submissions/<id:submission_id>/receipt")
@login_required
def submission_receipt(submission_id: int):
    """The team's members and the challenge's overseers: as the submission page."""
    sub = db().get(Submission, submission_id)
    if sub is None:
        abort(404)
    allowed_or_404(Action.see_submission, sub)
    try:
        return _download(receipt(db(), sub, keys()), sub.id)
    except NotFound:
        abort(404)


@bp.get("/challenges/<slug>/award/receipts/<id:submission_id>")
def award_receipt(slug: str, submission_id: int):
    """Anyone, once a team is awarded: the receipts of the chain behind the award
    (the winning submission and its re-run), so anyone can check the award."""
    try:
        challenge = challenges.get_challenge(db(), slug, public_only=True)
    except NotFound:
        abort(404)
    chain = award_chain(db(), challenge, keys())
    body = chain.receipt_of(submission_id) if chain is not None else None
    if body is None:
        abort(404)
    return _download(body, submission_id)


@bp.get("/keys")
def public_keys():
    return render_template("keys.html", keys=keys().published())


@bp.app_template_global()
def receipt_chain(award: Award | None) -> AwardChain | None:
    if award is None or award.team_id is None:
        return None
    return award_chain(db(), award.challenge, keys())
