"""Real processes for end-to-end stories: the `jiebang` CLI, a web server, workers."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from requests_toolbelt import MultipartEncoder

JIEBANG = [str(Path(sys.executable).with_name("jiebang"))]
FINAL = {"scored", "failed", "rejected", "cancelled"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(settings, engine):
    values = dict(os.environ)
    values.update(
        JIEBANG_ENV="test",
        JIEBANG_DATABASE_URL=settings.database_url,
        JIEBANG_DATA_DIR=str(settings.data_dir),
        JIEBANG_REDIS_URL=settings.redis_url,
        JIEBANG_QUEUE_NAME=settings.queue_name,
        JIEBANG_SECRET_KEY="e2e",
        JIEBANG_DOCKER_HOST=settings.docker_host,  # the engine the test fixtures use too
    )
    return values


@pytest.fixture
def cli(env):
    def run(*args: str) -> str:
        done = subprocess.run(
            [*JIEBANG, *args], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    return run


@pytest.fixture
def server(env, tmp_path, redis_conn, stop_gracefully):
    """`jiebang serve` and one `jiebang worker`, stopped after the test (a hang in either
    fails the test with that process's stacks and log)."""
    port = _free_port()
    logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("web", "worker")}
    procs = [
        subprocess.Popen(
            [*JIEBANG, "serve", "--port", str(port)],
            env=env,
            stdout=logs["web"],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [*JIEBANG, "worker"], env=env, stdout=logs["worker"], stderr=subprocess.STDOUT
        ),
    ]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded machine starts the server slowly
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/healthz", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.2)
    yield url
    try:
        stop_gracefully(
            [(proc, Path(logs[name].name)) for proc, name in zip(procs, logs, strict=True)]
        )
    finally:
        for log in logs.values():
            log.close()


class Api:
    """A thin client of the REST API for tests."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _headers(self, token: str | None) -> dict:
        return {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, token: str | None = None) -> requests.Response:
        return requests.get(self.url + path, headers=self._headers(token), timeout=30)

    def post(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return requests.post(self.url + path, headers=self._headers(token), timeout=30, **kwargs)

    def upload(self, slug: str, token: str, data: Path | io.BytesIO, kind: str) -> int:
        stream = data.open("rb") if isinstance(data, Path) else data
        with stream:
            encoder = MultipartEncoder(
                {"kind": kind, "file": ("upload", stream, "application/octet-stream")}
            )
            headers = self._headers(token) | {"Content-Type": encoder.content_type}
            response = requests.post(
                f"{self.url}/api/v1/challenges/{slug}/submissions",
                data=encoder,
                headers=headers,
                timeout=600,
            )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def wait(self, submission_id: int, token: str, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            body = self.get(f"/api/v1/submissions/{submission_id}", token).json()
            if body.get("status") in FINAL:
                return body
            time.sleep(0.3)
        raise AssertionError(f"submission {submission_id} not final: {body}")

    def wait_for(self, predicate, timeout: float = 120, every: float = 0.5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(every)
        raise AssertionError("condition not reached in time")


@pytest.fixture
def api(server) -> Api:
    return Api(server)


@pytest.fixture
def client_run(env, tmp_path, server):
    """`jiebang` as a user's client: its own config folder, the server's URL, a token.
    Returns the finished process; ``ok`` asserts a zero exit."""

    def run(token: str, *args: str, ok: bool = True, **extra: str):
        values = dict(env, XDG_CONFIG_HOME=str(tmp_path / "client"), JIEBANG_SERVER=server, **extra)
        values["JIEBANG_TOKEN"] = token
        done = subprocess.run(
            [*JIEBANG, *args], env=values, capture_output=True, text=True, timeout=600
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return run


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class WebUser:
    """A signed-in visitor of the HTML pages, posting their forms as a browser without
    scripts would: the CSRF token from the page, multipart uploads streamed."""

    def __init__(self, url: str, email: str, password: str = "password123") -> None:
        self.url, self.http = url, requests.Session()
        page = self.http.post(
            f"{url}/login",
            data={"email": email, "password": password, "csrf_token": self.token("/login")},
            timeout=30,
        )
        assert page.ok and "/login" not in page.url, f"{email} could not log in"

    def token(self, path: str, action: str | None = None) -> str:
        """The CSRF token of ``path``'s page, which must hold a form posting to ``action``."""
        page = self.http.get(self.url + path, timeout=30)
        assert page.ok, f"{path}: {page.status_code}"
        assert action is None or f'action="{action}"' in page.text, f"{path}: no {action} form"
        found = CSRF.search(page.text)
        assert found, f"{path} has no form"
        return found.group(1)

    def post(self, page: str, action: str, fields: dict, files: dict | None = None):
        """Post the form of ``page`` whose action is ``action``; files as name -> Path."""
        fields = dict(fields, csrf_token=self.token(page, action))
        if not files:
            return self.http.post(self.url + action, data=fields, timeout=60)
        opened = {name: path.open("rb") for name, path in files.items()}
        try:
            encoder = MultipartEncoder(
                fields
                | {
                    name: (path.name, opened[name], "application/octet-stream")
                    for name, path in files.items()
                }
            )
            return self.http.post(
                self.url + action,
                data=encoder,
                headers={"Content-Type": encoder.content_type},
                timeout=600,
            )
        finally:
            for stream in opened.values():
                stream.close()


@pytest.fixture
def web_user(server):
    return lambda email: WebUser(server, email)
