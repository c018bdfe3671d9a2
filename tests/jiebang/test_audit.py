from sqlalchemy import select, text

from jiebang import audit


def test_chain_verifies_and_detects_edits_and_removals(session):
    for i in range(4):
        audit.record(session, "thing.happened", n=i)
    session.commit()
    assert audit.verify(session).ok
    assert audit.verify(session).events == 4

    second = session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id)).all()[1]
    session.execute(
        text("UPDATE audit_events SET data = :d WHERE id = :i"), {"d": '{"n":99}', "i": second.id}
    )
    result = audit.verify(session)
    assert not result.ok and "edited" in result.problem
    session.rollback()

    session.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": second.id + 1})
    result = audit.verify(session)
    assert not result.ok and "removed" in result.problem
    session.rollback()
    assert audit.verify(session).ok


def test_a_kept_head_detects_events_cut_from_the_end(session):
    assert audit.head(session) == (0, audit.GENESIS)
    for i in range(3):
        audit.record(session, "thing.happened", n=i)
    session.commit()
    events, kept = audit.head(session)
    assert events == 3 and audit.verify(session).head == kept
    audit.record(session, "thing.happened", n=3)
    session.commit()
    assert audit.verify(session, head=kept).ok  # the log only grew

    newest = session.scalars(select(audit.AuditEvent).order_by(audit.AuditEvent.id)).all()
    session.execute(
        text("DELETE FROM audit_events WHERE id >= :i"), {"i": newest[2].id}
    )  # the last two events: the rest is still a valid chain
    assert audit.verify(session).ok
    result = audit.verify(session, head=kept)
    assert not result.ok and "removed from the end" in result.problem
    session.rollback()


def test_events_sort_by_an_integer_of_their_data(session):
    for n in (3, 12, 1):  # 12 after 3: numbers, not text
        audit.record(session, "thing.happened", submission=n)
    audit.record(session, "thing.other", note="no submission")
    about = audit.integer_field(session, "submission")
    query = select(about, audit.AuditEvent.data).order_by(about.is_(None), about)
    rows = session.execute(query).all()
    assert [r[0] for r in rows] == [1, 3, 12, None]
    assert audit.data_of(rows[0][1]) == {"submission": 1}
