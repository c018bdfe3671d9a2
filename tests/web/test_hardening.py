"""Requests an attacker shapes: huge or deeply nested bodies; pages in a hostile frame."""

import io
import zipfile

import pytest

from evaluator.models import Submission
from tests.web.test_uploads import RAW, URL, Body

MiB = 1024**2


def test_a_json_route_refuses_a_large_body_before_reading_it(client):
    # A 400 MB body to POST /api/v1/tokens, before any login, raised a gunicorn worker
    # to 1.4 GB: the JSON routes took the 2 GiB of the upload routes.
    body = Body(b"{" + b" " * (3 * MiB) + b"}")
    response = client.post("/api/v1/tokens", data=body, content_type="application/json")
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_large" and "1 MB" in error["message"]


def test_a_form_refuses_a_large_body(client):
    response = client.post("/login", data={"email": "a@example.com", "password": "x" * (2 * MiB)})
    assert response.status_code == 413 and "1 MB" in response.get_data(as_text=True)


def test_an_upload_route_still_takes_a_large_file(client, world, session, published, token_for):
    user = world.user("big@example.com")
    world.team(published, user)
    session.commit()
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_STORED) as z:
        z.writestr("main.py", "print(1)\n")
        z.writestr("weights.bin", bytes(range(256)) * (8 * 1024 * 2))  # 4 MiB
    response = client.post(
        URL,
        query_string={"kind": "bundle"},
        data=data.getvalue(),
        content_type=RAW,
        headers=token_for(user, scope="submit"),
    )
    assert response.status_code == 201, response.get_json()
    assert session.get(Submission, response.get_json()["id"]).size > 4 * MiB


@pytest.mark.parametrize("route", ["/api/v1/tokens", "/api/v1/challenges/parity/teams"])
def test_deeply_nested_json_is_a_400_not_a_crash(
    client, published, world, session, token_for, route
):
    user = world.user("nest@example.com")
    session.commit()
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(
        route, data=body, content_type="application/json", headers=token_for(user)
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/challenges"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_the_session_cookie_is_secure_in_production(settings, engine):
    from web.app import create_app

    app = create_app(settings.model_copy(update={"env": "production"}))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert "Strict-Transport-Security" in app.test_client().get("/").headers


@pytest.mark.parametrize("path", ["/api/v1/challenges?scenario=%00", "/challenges?q=a%00b"])
def test_a_nul_in_a_query_is_a_400_not_a_crash(client, path):
    # PostgreSQL refuses NUL in text: the query reached the database and answered 500.
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_a_nul_in_a_form_field_is_named_not_a_crash(client):
    response = client.post("/login", data={"email": "a\x00@example.com", "password": "x"})
    assert response.status_code == 200
    assert "Remove the NUL character from this field." in response.get_data(as_text=True)
