"""Each role against each API route: nobody gets more than their role allows.

For every operation of the OpenAPI document and every caller (anonymous, a
participant of another team, the team's member, the sponsor, an assigned judge,
an admin), the answer is never a server error, and the privileged routes answer
success only to the roles the rules name.
"""

import re

import pytest

from web.api.openapi import build_spec

ROLES = ("anonymous", "outsider", "member", "sponsor", "judge", "admin")
# Routes that change state: which roles may succeed (2xx) on the open challenge.
ALLOWED = {
    ("POST", "/api/v1/challenges/{slug}/approve"): set(),  # already open: nobody
    ("POST", "/api/v1/challenges/{slug}/close"): {"admin"},
    ("POST", "/api/v1/challenges/{slug}/judges"): {"admin"},
    ("POST", "/api/v1/challenges/{slug}/review"): set(),  # not a draft: nobody
    ("POST", "/api/v1/challenges/{slug}/reruns"): set(),  # not judging yet
    ("POST", "/api/v1/challenges/{slug}/verdicts"): set(),
    ("GET", "/api/v1/challenges/{slug}/judging"): set(),  # private until close
    ("POST", "/api/v1/challenges"): set(),  # no bundle sent: nobody
    # Nobody who holds the labels competes: not the sponsor, its judge, an admin.
    ("POST", "/api/v1/challenges/{slug}/teams"): {"outsider"},
    ("GET", "/api/v1/submissions/{submission_id}"): {"member", "admin"},
    ("POST", "/api/v1/submissions/{submission_id}/select"): {"member"},
    ("DELETE", "/api/v1/submissions/{submission_id}/select"): {"member"},
}


@pytest.fixture
def callers(world, session, published, token_for, redis_conn):
    member = world.user("member@example.com")
    team = world.team(published, member, name="Members")
    sub = world.scored(team, public=0.9, private=0.9)
    judge = world.user("judge@example.com", "judge")
    world.user("second-judge@example.com", "judge")
    admin = world.user("admin@example.com", "admin")
    from challenges.lifecycle import assign_judge

    assign_judge(session, published, judge=judge, actor=admin)
    users = {
        "outsider": world.user("outsider@example.com"),
        "member": member,
        "sponsor": world.user("sponsor@example.com", "sponsor", org=published.sponsor),
        "judge": judge,
        "admin": admin,
    }
    session.commit()
    headers = {"anonymous": {}} | {name: token_for(user) for name, user in users.items()}
    return headers, {"slug": "parity", "submission_id": sub.id, "team_id": team.id, "token_id": 1}


def _bodies(method: str, path: str) -> dict:
    if path.endswith("/judges"):
        return {"json": {"email": "second-judge@example.com"}}
    if path.endswith("/verdicts"):
        return {"json": {"decision": "approve"}}
    if method == "POST" and path.endswith("/teams"):
        return {"json": {"name": "Another team"}}
    if path.endswith("/join"):
        return {"json": {"join_code": "wrong"}}
    if path == "/api/v1/tokens" and method == "POST":
        return {"json": {"email": "member@example.com", "password": "wrong"}}
    return {}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_against_each_route(app, client, callers, role):
    headers, values = callers
    spec = build_spec(app)
    # Closing changes what the other routes may answer, so it goes last.
    ordered = sorted(spec["paths"].items(), key=lambda item: item[0].endswith("/close"))
    for path, operations in ordered:
        url = re.sub(r"{(\w+)}", lambda m: str(values[m.group(1)]), path)
        for method in operations:
            if (method.upper(), path) == ("DELETE", "/api/v1/tokens/{token_id}"):
                continue  # would revoke the caller's own token mid-test
            response = client.open(
                url, method=method.upper(), headers=headers[role], **_bodies(method.upper(), path)
            )
            assert response.status_code < 500, (role, method, path, response.get_data())
            allowed = ALLOWED.get((method.upper(), path))
            if allowed is not None:
                ok = 200 <= response.status_code < 300
                assert ok == (role in allowed), (role, method, path, response.status_code)
            if role == "anonymous" and operations[method].get("security"):
                assert response.status_code == 401, (method, path)
