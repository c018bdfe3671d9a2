"""A sponsor's draft replaced by a whole bundle (``jiebang challenges update``), as the
web form's ``service.update_draft`` replaces it from form fields."""

from __future__ import annotations

from sqlalchemy.orm import Session

from challenges.bundle import Bundle
from challenges.models import Challenge
from challenges.policy import Action, require
from challenges.service import _fill, check_editable
from jiebang import audit
from jiebang.accounts import User
from jiebang.blobs import BlobStore
from jiebang.errors import Invalid


def update_from_bundle(
    session: Session, *, challenge: Challenge, bundle: Bundle, blobs: BlobStore, actor: User
) -> Challenge:
    """Replace a draft's rules and files with a whole bundle (``jiebang challenges
    update``). The bundle names the same slug and sponsor: neither changes here."""
    require(session, actor, Action.manage_challenge, challenge)
    check_editable(challenge)
    spec = bundle.spec
    if spec.slug != challenge.slug:
        raise Invalid(
            "slug",
            "The bundle is for %(other)s, not %(slug)s; a draft keeps its slug.",
            other=spec.slug,
            slug=challenge.slug,
        )
    if spec.sponsor != challenge.sponsor.slug:
        raise Invalid(
            "sponsor",
            "The bundle names sponsor %(other)s; this draft belongs to %(sponsor)s.",
            other=spec.sponsor,
            sponsor=challenge.sponsor.slug,
        )
    _fill(challenge, bundle, blobs)  # the one copy of the rules, as create and edit use
    session.flush()
    audit.record(
        session,
        "challenge.updated",
        actor_id=actor.id,
        challenge_id=challenge.id,
        slug=challenge.slug,
        dataset_hash=challenge.dataset_hash,
        source="bundle",
    )
    return challenge
