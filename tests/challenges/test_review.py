"""An administrator's review of a challenge (issue 15, friction 6): approve, refuse or
request changes with a comment the sponsor reads."""

import pytest
from sqlalchemy import select

from challenges import lifecycle
from jiebang.audit import AuditEvent
from jiebang.errors import Forbidden, Invalid


@pytest.fixture
def in_review(world, session):
    item = world.challenge(publish=False)
    sponsor = world.user("s@example.com", "sponsor", org=world.org("acme"))
    lifecycle.request_review(session, item, actor=sponsor)
    return item, sponsor, world.user("a@example.com", "admin")


def _events(session) -> list[tuple[str, dict]]:
    return [(e.kind, e.data) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


@pytest.mark.parametrize(
    "decision, stored, kind",
    [
        ("request_changes", "changes_requested", "challenge.changes_requested"),
        ("refuse", "refused", "challenge.refused"),
    ],
)
def test_refusing_or_asking_for_changes_sends_it_back_with_the_comment(
    in_review, session, decision, stored, kind
):
    item, sponsor, admin = in_review
    lifecycle.review(
        session, item, decision=decision, comment="  Add a data dictionary.  ", actor=admin
    )
    assert item.status == "draft"
    assert (item.review_decision, item.review_note) == (stored, "Add a data dictionary.")
    assert item.review_note_at is not None
    kinds = [k for k, _d in _events(session)]
    assert kind in kinds
    # The sponsor edits and sends it again; approval clears the note.
    lifecycle.request_review(session, item, actor=sponsor)
    lifecycle.review(session, item, decision="approve", actor=admin)
    assert item.status == "open" and item.review_note is None


def test_a_comment_is_required_and_only_in_review(in_review, session):
    item, sponsor, admin = in_review
    with pytest.raises(Invalid) as caught:
        lifecycle.review(session, item, decision="refuse", comment=" ", actor=admin)
    assert caught.value.field == "comment"
    with pytest.raises(Invalid) as caught:
        lifecycle.review(session, item, decision="maybe", comment="whatever", actor=admin)
    assert caught.value.field == "decision"
    with pytest.raises(Forbidden):
        lifecycle.review(session, item, decision="refuse", comment="Not mine.", actor=sponsor)
    assert item.status == "in_review"
    lifecycle.review(session, item, decision="approve", actor=admin)
    with pytest.raises(Invalid) as caught:
        lifecycle.review(session, item, decision="refuse", comment="Too late now.", actor=admin)
    assert caught.value.field == "status" and item.status == "open"
