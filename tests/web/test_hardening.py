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


def test_a_challenge_bundle_may_be_larger_than_any_submission(
    settings, engine, world, session, token_for, monkeypatch, tmp_path
):
    """Bundles carry folders of test data: their cap is max_challenge_bytes, and the upload
    lands on the data disk (data_dir/tmp), never in /tmp."""
    from web.app import create_app

    settings.max_image_bytes = settings.max_bundle_bytes = 1 * MiB
    settings.max_challenge_bytes = 6 * MiB
    app = create_app(settings)
    client = app.test_client()
    sponsor = world.user("big-sponsor@example.com", role="sponsor", org=world.org())
    session.commit()
    spooled = []
    real = __import__("tempfile").TemporaryFile

    def watch(*args, **kwargs):
        spooled.append(kwargs.get("dir"))
        return real(*args, **kwargs)

    monkeypatch.setattr("web.uploads.tempfile.TemporaryFile", watch)

    def push(size: int):
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w", zipfile.ZIP_STORED) as z:
            z.writestr("challenge.yaml", "slug: x\n")
            z.writestr("padding.bin", bytes(size))
        return client.post(
            "/api/v1/challenges",
            data={"bundle": (io.BytesIO(data.getvalue()), "bundle.zip")},
            content_type="multipart/form-data",
            headers=token_for(sponsor),
        )

    accepted = push(3 * MiB)  # over the 2 MiB any submission may be, under the bundle cap
    assert accepted.status_code == 400, accepted.get_json()  # read: its challenge.yaml is bad
    assert accepted.get_json()["error"]["code"] == "invalid_bundle"
    assert spooled and all(d == settings.data_dir / "tmp" for d in spooled)
    assert push(7 * MiB).status_code == 413


def test_a_participant_cannot_fill_the_disk_through_the_bundle_route(
    client, world, session, token_for, monkeypatch
):
    """The role is asked before the body is read (review finding F7: a 3 GB upload by a
    participant was written to the data disk, then refused)."""
    user = world.user("filler@example.com")
    session.commit()
    read = []
    real = __import__("tempfile").TemporaryFile
    monkeypatch.setattr(
        "web.uploads.tempfile.TemporaryFile", lambda *a, **k: read.append(1) or real(*a, **k)
    )
    response = client.post(
        "/api/v1/challenges",
        data={"bundle": (io.BytesIO(bytes(2 * MiB)), "bundle.zip")},
        content_type="multipart/form-data",
        headers=token_for(user),
    )
    assert response.status_code == 403 and read == []


def test_a_nul_in_the_address_is_a_400_not_a_crash(client):
    # Review finding F5: /challenges/a%00b reached PostgreSQL and answered 500.
    for path in ("/challenges/a%00b", "/api/v1/challenges/a%00b"):
        response = client.get(path)
        assert response.status_code == 400, path
