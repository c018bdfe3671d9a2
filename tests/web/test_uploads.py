"""Uploads are written once, into the blob store, and nothing is left of a refused one."""

import errno
import hashlib
import io

import pytest

from evaluator.models import Submission
from jiebang.blobs import BlobStore, Incoming
from web.app import create_app

URL = "/api/v1/challenges/parity/submissions"
RAW = "application/octet-stream"


class Body(io.RawIOBase):
    """A request body that counts what the server reads (``pos``).

    ``declared`` is the length the test client announces (it asks the stream by seeking
    to its end); by default the data's.
    """

    def __init__(self, data: bytes, *, declared: int | None = None) -> None:
        self.data, self.pos = data, 0
        self.declared = len(data) if declared is None else declared
        self._cursor = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._cursor = self.declared if whence == io.SEEK_END else offset
        return self._cursor

    def tell(self) -> int:
        return self._cursor

    def readinto(self, buffer) -> int:
        n = min(len(buffer), len(self.data) - self.pos)
        buffer[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


def _files(settings) -> set:
    return {p for p in settings.blob_dir.rglob("*") if p.is_file()}


@pytest.fixture
def new_files(settings, published):
    """The files in the blob store, tmp included, besides the challenge's own data."""
    before = _files(settings)
    return lambda: sorted(_files(settings) - before)


@pytest.fixture
def received(monkeypatch):
    """Every ``Incoming`` the app opens."""
    made: list[Incoming] = []
    original = BlobStore.receive

    def receive(self, **kwargs):
        made.append(original(self, **kwargs))
        return made[-1]

    monkeypatch.setattr(BlobStore, "receive", receive)
    return made


@pytest.fixture
def member(world, session, published, token_for, redis_conn):
    user = world.user("u@example.com")
    world.team(published, user)
    session.commit()
    return token_for(user, scope="submit")


def test_a_raw_body_is_stored_once_with_its_sha256(
    new_files, client, member, session, settings, make_bundle_zip, received
):
    data = make_bundle_zip().getvalue()
    response = client.post(
        URL,
        query_string={"kind": "bundle", "note": "raw"},
        data=data,
        content_type=RAW,
        headers=member,
    )
    assert response.status_code == 201, response.get_json()
    sub = session.get(Submission, response.get_json()["id"])
    assert sub.blob_sha256 == hashlib.sha256(data).hexdigest() and sub.size == len(data)
    assert sub.note == "raw" and sub.kind == "bundle"
    assert new_files() == [settings.blob_dir / sub.blob_sha256[:2] / sub.blob_sha256]
    assert len(received) == 1 and received[0].closed


def test_a_multipart_file_goes_straight_into_the_blob_store(
    new_files, client, member, session, settings, make_bundle_zip, received, monkeypatch
):
    def spooled(*args, **kwargs):
        raise AssertionError("werkzeug spooled the upload to a temporary file")

    monkeypatch.setattr("werkzeug.wrappers.request.default_stream_factory", spooled)
    data = make_bundle_zip().getvalue()
    response = client.post(
        URL, data={"kind": "bundle", "file": (io.BytesIO(data), "b.zip")}, headers=member
    )
    assert response.status_code == 201, response.get_json()
    sub = session.get(Submission, response.get_json()["id"])
    assert sub.blob_sha256 == hashlib.sha256(data).hexdigest()
    assert new_files() == [settings.blob_dir / sub.blob_sha256[:2] / sub.blob_sha256]
    assert len(received) == 1 and received[0].closed


def test_only_submission_uploads_use_the_blob_store(
    client, world, session, settings, token_for, make_bundle_zip, received
):
    """A sponsor's bundle (hidden labels inside) takes the ordinary path, as before."""
    sponsor = world.user("s@example.com", "sponsor", org=world.org())
    session.commit()
    client.post(
        "/api/v1/challenges",
        data={"bundle": (make_bundle_zip(), "bundle.zip")},
        headers=token_for(sponsor),
    )
    assert received == [] and not (settings.blob_dir / "tmp").exists()


def test_an_upload_over_the_cap_is_refused_before_it_is_read(
    new_files, settings, engine, member, session, redis_conn
):
    app = create_app(settings.model_copy(update={"max_bundle_bytes": 1000}))
    body = Body(b"x" * 5000)
    response = app.test_client().post(
        URL,
        query_string={"kind": "bundle"},
        input_stream=body,
        content_type=RAW,
        headers=member,
    )
    assert response.status_code == 400
    assert "larger than" in response.get_json()["error"]["message"]
    assert body.pos == 0
    assert new_files() == [] and session.query(Submission).count() == 0


def test_an_upload_of_unknown_length_is_cut_off_at_the_cap(
    new_files, settings, engine, member, session, redis_conn
):
    app = create_app(settings.model_copy(update={"max_bundle_bytes": 3 * 1024 * 1024}))
    body = Body(b"x" * (20 * 1024 * 1024))
    response = app.test_client().post(
        URL,
        query_string={"kind": "bundle"},
        input_stream=body,
        content_type=RAW,
        headers=member | {"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert response.status_code == 400
    assert "larger than 3 MB" in response.get_json()["error"]["message"]
    assert body.pos <= 5 * 1024 * 1024  # refused while streaming, not after
    assert new_files() == [] and session.query(Submission).count() == 0


def test_quota_is_checked_before_the_body_is_read(
    client, member, session, settings, make_bundle_zip
):
    data = make_bundle_zip().getvalue()
    for _ in range(3):
        ok = client.post(
            URL, query_string={"kind": "bundle"}, data=data, content_type=RAW, headers=member
        )
        assert ok.status_code == 201
    body = Body(data)
    over = client.post(
        URL,
        query_string={"kind": "bundle"},
        input_stream=body,
        content_type=RAW,
        headers=member,
    )
    assert over.status_code == 429 and body.pos == 0


def test_an_interrupted_raw_upload_leaves_nothing(new_files, client, member, session, settings):
    body = Body(b"x" * 100_000, declared=300_000)
    response = client.post(
        URL,
        query_string={"kind": "bundle"},
        input_stream=body,
        content_type=RAW,
        headers=member,
    )
    assert response.status_code == 400 and body.pos == 100_000  # all there was
    assert new_files() == [] and session.query(Submission).count() == 0


def test_an_interrupted_multipart_upload_leaves_nothing(
    new_files, client, member, session, settings, received
):
    head = (
        b'--XyZ\r\nContent-Disposition: form-data; name="kind"\r\n\r\nbundle\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="b.zip"\r\n'
        b"Content-Type: application/zip\r\n\r\n"
    )
    data = head + b"x" * 500_000
    body = Body(data, declared=len(data) + 100)  # the client went away before the end
    response = client.post(
        URL,
        input_stream=body,
        content_type="multipart/form-data; boundary=XyZ",
        headers=member,
    )
    assert response.status_code == 400
    assert len(received) == 1 and received[0].closed  # it was written to, then removed
    assert new_files() == [] and session.query(Submission).count() == 0


def test_a_full_disk_while_the_form_is_read_keeps_nothing_and_says_so(
    new_files, client, member, session, settings, make_bundle_zip, monkeypatch, world, published
):
    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Incoming, "write", full)
    api = client.post(
        URL, data={"kind": "bundle", "file": (make_bundle_zip(), "b.zip")}, headers=member
    )
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "unavailable"
    world.user("p@example.com")
    session.commit()
    client.post("/login", data={"email": "p@example.com", "password": "password123"})
    page = client.post(
        "/challenges/parity/submissions",
        data={"kind": "bundle", "file": (make_bundle_zip(), "b.zip")},
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert page.status_code == 503 and "out of storage" in page.get_json()["error"]
    assert new_files() == [] and session.query(Submission).count() == 0


def test_the_browser_form_writes_into_the_blob_store(
    new_files, client, world, session, published, settings, make_bundle_zip, redis_conn, received
):
    world.team(published, world.user("p@example.com"))
    session.commit()
    client.post("/login", data={"email": "p@example.com", "password": "password123"})
    data = make_bundle_zip().getvalue()
    response = client.post(
        "/challenges/parity/submissions",
        data={"kind": "bundle", "file": (io.BytesIO(data), "b.zip")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert len(received) == 1 and received[0].closed
    assert new_files() == [BlobStore(settings.blob_dir).path(hashlib.sha256(data).hexdigest())]
