"""The queue on the page and over the API: the place, the estimate, cancelling; the web
upload's kind decided from the file."""

import re

import pytest

from evaluator.models import Submission


@pytest.fixture
def queued(world, session, published, redis_conn):
    """A queued submission of alice's team, behind another queued one."""
    alice = world.user("alice@example.com")
    team = world.team(published, alice)
    world._submission(team, status="queued")  # first in the queue
    sub = world._submission(team, status="queued")
    session.commit()
    return sub


def _login(client, email="alice@example.com"):
    client.post("/login", data={"email": email, "password": "password123"})


def test_the_page_shows_the_place_and_a_labelled_cancel_button(client, queued):
    _login(client)
    page = client.get(f"/submissions/{queued.id}").get_data(as_text=True)
    assert "Place in the queue" in page
    assert "1 submission ahead of it." in page and "No estimate of its start yet." in page
    assert "Cancel this queued submission" in page and "data-confirm=" in page
    status = client.get(f"/submissions/{queued.id}/status").get_json()
    assert status["queue_position"] == 1 and status["estimated_start_s"] is None
    assert status["queue_text"].startswith("1 submission ahead of it.")


def test_cancelling_on_the_page(client, session, queued):
    _login(client)
    answer = client.post(f"/submissions/{queued.id}/cancel")
    assert answer.status_code == 302
    session.expire_all()
    assert session.get(Submission, queued.id).status == "cancelled"
    page = client.get(f"/submissions/{queued.id}").get_data(as_text=True)
    assert "was cancelled" in page
    assert "Cancel this queued submission" not in page and "Place in the queue" not in page
    # Twice: the page says why, nothing changes.
    client.post(f"/submissions/{queued.id}/cancel")
    assert "has already finished" in client.get(f"/submissions/{queued.id}").get_data(as_text=True)


def test_the_api_gives_the_place_only_while_queued_and_cancels(
    client, session, queued, token_for, world
):
    headers = token_for(world.session.get(Submission, queued.id).user, scope="submit")
    body = client.get(f"/api/v1/submissions/{queued.id}", headers=headers).get_json()
    assert body["queue_position"] == 1 and body["estimated_start_s"] is None
    answer = client.post(f"/api/v1/submissions/{queued.id}/cancel", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["status"] == "cancelled"
    body = client.get(f"/api/v1/submissions/{queued.id}", headers=headers).get_json()
    assert "queue_position" not in body and body["final"] is True
    again = client.post(f"/api/v1/submissions/{queued.id}/cancel", headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"


def test_a_zip_sent_with_the_forms_default_kind_is_a_code_bundle(
    client, world, session, published, make_bundle_zip, redis_conn
):
    world.team(published, world.user("p@example.com"))
    session.commit()
    _login(client, "p@example.com")
    form = client.get("/challenges/parity/team").get_data(as_text=True)
    checked = re.search(
        r'<input[^>]*checked[^>]*name="kind"[^>]*>|<input[^>]*name="kind"[^>]*checked[^>]*>', form
    )
    assert checked and 'value="auto"' in checked.group(0)
    answer = client.post(
        "/challenges/parity/submissions",
        data={"kind": "auto", "file": (make_bundle_zip(), "solution.zip")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert session.query(Submission).one().kind == "bundle"
