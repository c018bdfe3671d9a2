"""Uploads through a real `jiebang serve`: hashed once, capped early, nothing left behind."""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import socket
import tarfile
import time

import pytest
import requests
from requests_toolbelt import MultipartEncoder

from web import demo
from web.client import FileBody

pytestmark = [pytest.mark.docker, pytest.mark.slow]
SLUG = "handwritten-digits"
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _archive(path, size: int):
    """A valid one-layer image archive of about ``size`` random bytes."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        _add(tar, "weights.bin", os.urandom(size))
    diff_id = hashlib.sha256(layer.getvalue()).hexdigest()
    config = json.dumps(
        {
            "architecture": ARCH,
            "os": "linux",
            "config": {"Cmd": ["/weights.bin"]},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
        }
    ).encode()
    config_name = f"{hashlib.sha256(config).hexdigest()}.json"
    manifest = [{"Config": config_name, "RepoTags": None, "Layers": [f"{diff_id}/layer.tar"]}]
    with tarfile.open(path, "w") as tar:
        _add(tar, f"{diff_id}/layer.tar", layer.getvalue())
        _add(tar, config_name, config)
        _add(tar, "manifest.json", json.dumps(manifest).encode())
    return path


@pytest.fixture
def token(cli, server, tmp_path):
    bundle = demo.prepare_bundle(tmp_path / "bundle", now=demo.utcnow())
    cli("orgs", "create", "--slug", "example-logistics", "--name", "Example Logistics")
    cli("challenges", "load", str(bundle), "--publish")
    cli("users", "create", "--email", "u@example.com", "--password", "password123")
    value = cli("users", "token", "--email", "u@example.com")
    team = requests.post(
        f"{server}/api/v1/challenges/{SLUG}/teams",
        json={"name": "Uploaders"},
        headers={"Authorization": f"Bearer {value}"},
        timeout=30,
    )
    assert team.status_code == 201
    return value


def _tmp_files(settings) -> list:
    tmp = settings.blob_dir / "tmp"
    return sorted(tmp.iterdir()) if tmp.exists() else []


def _wait_until_clean(settings, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while _tmp_files(settings) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _tmp_files(settings)


def _count(server, token) -> int:
    listed = requests.get(
        f"{server}/api/v1/challenges/{SLUG}/submissions",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return listed.json()["total"]


def _send_head(server: str, token: str, *, query: str, content_type: str, length: int):
    host, port = server.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=30)
    conn.sendall(
        (
            f"POST /api/v1/challenges/{SLUG}/submissions?{query} HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
        ).encode()
    )
    return conn


def test_both_ways_store_the_file_once_with_its_sha256(server, token, settings, tmp_path):
    archive = _archive(tmp_path / "image.tar", 6 * 1024 * 1024)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    url = f"{server}/api/v1/challenges/{SLUG}/submissions"
    auth = {"Authorization": f"Bearer {token}"}
    with open(archive, "rb") as f:
        raw = requests.post(
            url,
            params={"kind": "image", "note": "raw body"},
            data=FileBody(f, archive.stat().st_size),
            headers=auth | {"Content-Type": "application/octet-stream"},
            timeout=60,
        )
    assert raw.status_code == 201, raw.text
    with open(archive, "rb") as f:
        form = MultipartEncoder({"kind": "image", "file": ("image.tar", f, "application/x-tar")})
        multipart = requests.post(
            url, data=form, headers=auth | {"Content-Type": form.content_type}, timeout=60
        )
    assert multipart.status_code == 201, multipart.text
    for answer in (raw, multipart):
        sub = requests.get(
            f"{server}/api/v1/submissions/{answer.json()['id']}", headers=auth, timeout=30
        ).json()
        assert sub["sha256"] == digest and sub["size"] == archive.stat().st_size
    stored = settings.blob_dir / digest[:2] / digest
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == digest
    assert _tmp_files(settings) == []


@pytest.mark.parametrize("way", ["raw", "multipart"])
def test_an_upload_cut_off_leaves_nothing(server, token, settings, way):
    before = _count(server, token)
    if way == "raw":
        conn = _send_head(
            server,
            token,
            query="kind=image",
            content_type="application/octet-stream",
            length=64 * 1024 * 1024,
        )
    else:
        conn = _send_head(
            server,
            token,
            query="",
            content_type="multipart/form-data; boundary=XyZ",
            length=64 * 1024 * 1024,
        )
        conn.sendall(
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="i.tar"\r\n\r\n'
        )
    for _ in range(8):
        conn.sendall(os.urandom(1024 * 1024))
    deadline = time.monotonic() + 30
    while not _tmp_files(settings) and time.monotonic() < deadline:
        time.sleep(0.05)  # the server has begun to write it
    assert _tmp_files(settings)
    conn.close()
    assert _wait_until_clean(settings) == []
    assert _count(server, token) == before
    assert requests.get(f"{server}/healthz", timeout=10).status_code == 200


def test_an_upload_over_the_cap_is_refused_before_it_is_sent(server, token, settings):
    too_big = 200 * 1024 * 1024  # bundles are capped at 100 MB
    conn = _send_head(
        server,
        token,
        query="kind=bundle",
        content_type="application/octet-stream",
        length=too_big,
    )
    started = time.monotonic()
    answer = conn.makefile("rb").read()  # no byte of the body was sent
    conn.close()
    assert time.monotonic() - started < 10
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert "larger than 100 MB" in json.loads(body)["error"]["message"]
    assert _tmp_files(settings) == []
