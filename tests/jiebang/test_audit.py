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
