import pytest

from challenges import service
from challenges.bundle import open_bundle
from challenges.models import FileRole, Status
from jiebang import audit
from jiebang.errors import Conflict, Forbidden, Invalid, NotFound


def test_a_bundle_becomes_a_draft_with_its_files_in_the_blob_store(world, blobs):
    item = world.challenge(publish=False)
    assert item.status == Status.draft
    roles = sorted(f.role for f in item.files)
    assert roles == sorted(["train", "test_inputs", "test_labels"])
    labels = item.files_with(FileRole.test_labels)[0]
    assert blobs.path(labels.sha256).read_text().startswith("id,label")
    assert len(item.split_secret) == 64 and len(item.dataset_hash) == 64
    assert service.list_public(world.session) == []
    with pytest.raises(NotFound):
        service.get_challenge(world.session, item.slug, public_only=True)


def test_publish_and_close_are_audited(world, session):
    item = world.challenge(publish=False)
    service.publish(session, item)
    assert item.status == Status.open
    assert [c.slug for c in service.list_public(session)] == ["parity"]
    assert [c.slug for c in service.list_public(session, scenario="healthcare")] == []
    service.close(session, item)
    assert item.status == Status.closed
    kinds = [e.kind for e in audit.events_for(session, item.id)]
    assert kinds == ["challenge.created", "challenge.published", "challenge.closed"]
    with pytest.raises(Invalid):
        service.close(session, item)


def test_only_admins_publish_and_sponsors_list_for_their_own_org(world, session, bundle_dir):
    item = world.challenge(publish=False)
    sponsor = world.user("s@example.com", "sponsor", org=world.org("other"))
    with pytest.raises(Forbidden):
        service.publish(session, item, actor=sponsor)
    with pytest.raises(Conflict), open_bundle(bundle_dir) as bundle:
        service.create_from_bundle(session, bundle=bundle, blobs=world.blobs)


def test_sponsor_of_another_org_is_refused(world, session, bundle_dir):
    world.org("acme")
    outsider = world.user("o@example.com", "sponsor", org=world.org("other"))
    with pytest.raises(Forbidden), open_bundle(bundle_dir) as bundle:
        service.create_from_bundle(session, bundle=bundle, blobs=world.blobs, actor=outsider)
