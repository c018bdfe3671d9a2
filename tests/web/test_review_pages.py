"""The admin's review on the page and the API; the sponsor reads the comment."""

from challenges import lifecycle
from challenges.models import Challenge


def _login(client, email):
    response = client.post("/login", data={"email": email, "password": "password123"})
    assert response.status_code == 302


def _in_review(world, session):
    item = world.challenge(publish=False)
    sponsor = world.user("s@example.com", "sponsor", org=world.org("acme"))
    lifecycle.request_review(session, item, actor=sponsor)
    admin = world.user("a@example.com", "admin")
    session.commit()
    return item, admin


def test_admin_requests_changes_and_the_sponsor_sees_the_comment(client, world, session):
    _in_review(world, session)
    _login(client, "a@example.com")
    assert "Request changes" in client.get("/admin").get_data(as_text=True)
    empty = client.post(
        "/admin/challenges/parity/review",
        data={"decision": "request_changes", "comment": ""},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Write the sponsor a comment" in empty
    sent = client.post(
        "/admin/challenges/parity/review",
        data={"decision": "request_changes", "comment": "Describe the label column."},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Sent back to the sponsor with your comment." in sent
    session.expire_all()
    assert session.query(Challenge).one().status == "draft"
    assert "Sent back: Describe the label column." in client.get("/admin").get_data(as_text=True)
    client.post("/logout")
    _login(client, "s@example.com")
    for url in ("/sponsor/challenges/parity", "/sponsor/challenges/parity/edit"):
        page = client.get(url).get_data(as_text=True)
        assert "An administrator asks for changes" in page, url
        assert "Describe the label column." in page, url


def test_api_refuses_with_a_comment(client, world, session, token_for):
    _item, admin = _in_review(world, session)
    url = "/api/v1/challenges/parity/review-decision"
    headers = token_for(admin)
    bare = client.post(url, json={"decision": "refuse"}, headers=headers)
    assert bare.status_code == 400 and bare.get_json()["error"]["field"] == "comment"
    done = client.post(
        url, json={"decision": "refuse", "comment": "Prize rules unclear."}, headers=headers
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json() == {
        "slug": "parity",
        "status": "draft",
        "decision": "refuse",
        "comment": "Prize rules unclear.",
    }
