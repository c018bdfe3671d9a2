"""The OpenAPI document is generated from the routes, and the API keeps to it.

Schemathesis generates requests from the document for every operation and checks
each answer: no server error, status, content type and body as documented.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from web.api.openapi import build_spec


def test_every_api_route_is_documented(app):
    spec = build_spec(app)
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        # The document itself and the page that shows it (Swagger UI) are no operations.
        if rule.endpoint.startswith("api.") and rule.endpoint not in ("api.openapi", "api.docs"):
            path = rule.rule.replace("<id:", "{").replace("<", "{").replace(">", "}")
            routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented
    assert spec["openapi"] == "3.1.0"
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_the_document_is_served(client):
    body = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/challenges/{slug}/leaderboard" in body["paths"]
    board = body["components"]["schemas"]["Board"]
    assert set(board["required"]) >= {"board", "entries"}


@pytest.fixture
def seeded(app, world, session, published, redis_conn):
    """An open challenge with a scored team, and an administrator's manage token."""
    from jiebang.tokens import issue_token

    # Rate limits would make answers depend on how many requests came before.
    app.config["JIEBANG"] = app.config["JIEBANG"].model_copy(
        update={
            "login_rate_limit": "10000/minute",
            "login_account_rate_limit": "10000/minute",
            "submit_rate_limit": "10000/minute",
        }
    )
    admin = world.user("admin@example.com", "admin")
    team = world.team(published, world.user("p@example.com"), name="Players")
    world.scored(team, public=0.9, private=0.95)
    session.commit()
    token = issue_token(session, user=admin, scope="manage")
    session.commit()
    return token


def test_api_keeps_to_its_document(app, seeded):
    """Every operation, many generated requests each (schemathesis on hypothesis)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {seeded}"}
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    # Revoking a token may revoke the very token the test sends: tested on its own below.
    operations = [o for o in operations if o.label != "DELETE /api/v1/tokens/{token_id}"]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case):
            # A schema cannot tell a valid image archive or a state the rules allow, so
            # 4xx answers to schema-valid requests are fine; everything else is checked.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:  # collect them all, then fail once with every one
            failures.append(f"{operation.label}: {exc}")
    assert failures == [], "\n\n".join(failures)


def test_tokens_by_password_listed_and_revoked(client, world, session):
    world.user("t@example.com")
    session.commit()
    wrong = client.post("/api/v1/tokens", json={"email": "t@example.com", "password": "nope"})
    assert wrong.status_code == 401
    made = client.post(
        "/api/v1/tokens",
        json={"email": "t@example.com", "password": "password123", "scope": "read", "days": 1},
    )
    assert made.status_code == 201
    body = made.get_json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/tokens", headers=headers).status_code == 403  # needs manage
    manage = client.post(
        "/api/v1/tokens",
        json={"email": "t@example.com", "password": "password123", "scope": "manage"},
    ).get_json()
    full = {"Authorization": f"Bearer {manage['token']}"}
    listed = client.get("/api/v1/tokens", headers=full).get_json()["tokens"]
    assert [t["id"] for t in listed] == [manage["id"], body["id"]] and "token" not in listed[0]
    assert client.delete(f"/api/v1/tokens/{body['id']}", headers=headers).status_code == 200
    assert client.get("/api/v1/tokens", headers=headers).status_code == 401


def test_scopes_are_enforced(client, world, session, published, token_for):
    user = world.user("r@example.com")
    session.commit()
    read = token_for(user, scope="read")
    denied = client.post("/api/v1/challenges/parity/teams", json={"name": "Readers"}, headers=read)
    assert denied.status_code == 403
    assert denied.get_json()["error"]["code"] == "insufficient_scope"
    submit = token_for(user, scope="submit")
    ok = client.post("/api/v1/challenges/parity/teams", json={"name": "Writers"}, headers=submit)
    assert ok.status_code == 201
    assert client.post("/api/v1/challenges/parity/review", headers=submit).status_code == 403


def test_logins_are_rate_limited(client, world, session):
    world.user("l@example.com")
    session.commit()
    answers = [
        client.post(
            "/api/v1/tokens", json={"email": "l@example.com", "password": "bad"}
        ).status_code
        for _ in range(12)
    ]
    assert answers[:10] == [401] * 10 and answers[10:] == [429, 429]
    limited = client.post("/login", data={"email": "l@example.com", "password": "bad"})
    assert limited.status_code in (200, 429)


def test_bad_bodies_name_the_field(client, world, session, published, token_for):
    headers = token_for(world.user("b@example.com"))
    session.commit()
    response = client.post("/api/v1/challenges/parity/teams", json={"nam": "x"}, headers=headers)
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["field"] in ("name", "nam")
    assert (
        client.post(
            "/api/v1/challenges/parity/teams",
            data="[]",
            headers=headers,
            content_type="application/json",
        ).status_code
        == 400
    )
    huge = client.get("/api/v1/submissions/99999999999999999999", headers=headers)
    assert huge.status_code == 404
