"""Editing a draft through the form keeps what the form has no fields for: a scoring
program's folder and block, folders of inputs and labels, items, the public sample, and
targets on the program's other metrics."""

from __future__ import annotations

import datetime as dt

from challenges.bundle import open_bundle
from challenges.models import Challenge, FileRole
from challenges.service import create_from_bundle
from web.challenge_spec import initial

from .test_examples import make_bundle


def _form_of(item: Challenge) -> dict:
    """What the edit page posts back unchanged, as the browser sends it."""
    data = {}
    for key, value in initial(item).items():
        if value is None or value is False:
            continue
        if isinstance(value, dt.datetime):
            value = value.strftime("%Y-%m-%dT%H:%M")
        data[key] = "y" if value is True else str(value)
    return data


def test_a_program_scored_draft_keeps_its_program_folders_and_targets(
    client, world, session, blobs, tmp_path
):
    world.user("s@example.com", "sponsor", org=world.org("example-logistics"))
    session.commit()
    with open_bundle(make_bundle("container-damage", tmp_path / "bundle")) as bundle:
        item = create_from_bundle(session, bundle=bundle, blobs=blobs)
    session.commit()
    before = {f.role: (f.name, f.sha256) for f in item.files}
    scoring, targets = item.scoring, item.targets
    client.post("/login", data={"email": "s@example.com", "password": "password123"})

    page = client.get("/sponsor/challenges/container-damage/edit").get_data(as_text=True)
    assert 'value="map50"' in page and 'value="recall"' in page  # the program's metrics
    response = client.post(
        "/sponsor/challenges/container-damage/edit",
        data={**_form_of(item), "title_en": "Container damage, second edition"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)

    session.expire_all()
    assert item.title_en == "Container damage, second edition"
    assert {f.role: (f.name, f.sha256) for f in item.files} == before
    assert item.file_with(FileRole.scoring_program).name == "scoring/"
    assert item.scoring == scoring and item.metric == "map50"
    assert sorted(targets, key=str) == sorted(item.targets, key=str)
