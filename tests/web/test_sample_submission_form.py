"""The challenge form asks for a sample submission and a data dictionary (issue 15, 12)."""

import io

from challenges.models import Challenge, FileRole
from tests.web.test_sponsor_pages import FORM, _files, _post


def test_the_form_takes_a_sample_and_a_dictionary(client, world, session, bundle_dir):
    world.user("s@example.com", "sponsor", org=world.org("acme"))
    session.commit()
    client.post("/login", data={"email": "s@example.com", "password": "password123"})
    page = client.get("/sponsor/challenges/new").get_data(as_text=True)
    assert 'name="sample_submission"' in page and 'name="dictionary"' in page
    bad = {
        **FORM,
        **_files(bundle_dir),
        "sample_submission": (io.BytesIO(b"id,prediction\nr001,1\n"), "mine.csv"),
        "dictionary": "x | integer | The number",
    }
    refused = _post(client, "/sponsor/challenges/new", bad)
    said = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="dictionary-error"' in said
    assert session.query(Challenge).count() == 0
    good = {
        **FORM,
        **_files(bundle_dir),
        "sample_submission": (io.BytesIO(b"id,prediction\nexample-1,1\n"), "mine.csv"),
        "dictionary": "x | integer | The number | 数字\n\nid | text | Row id | 行编号",
    }
    made = _post(client, "/sponsor/challenges/new", good)
    assert made.status_code == 302, made.get_data(as_text=True)
    item = session.query(Challenge).one()
    assert item.file_with(FileRole.sample_submission).name == "sample_submission.csv"
    assert [row["column"] for row in item.data_dictionary] == ["x", "id"]
    edit = client.get("/sponsor/challenges/port-damage/edit").get_data(as_text=True)
    assert "x | integer | The number | 数字" in edit


def test_a_sample_with_test_ids_is_refused_next_to_its_field(client, world, session, bundle_dir):
    world.user("s@example.com", "sponsor", org=world.org("acme"))
    session.commit()
    client.post("/login", data={"email": "s@example.com", "password": "password123"})
    leak = {
        **FORM,
        **_files(bundle_dir),
        "sample_submission": (io.BytesIO(b"id,prediction\nr001,1\n"), "mine.csv"),
    }
    refused = _post(client, "/sponsor/challenges/new", leak)
    said = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'id="sample_submission-error"' in said
    assert "test ids (r001)" in said
