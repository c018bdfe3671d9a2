"""The HTTP side of the client: server and token, requests, uploads with a progress bar.

Server and token come from --server/--token, else JIEBANG_SERVER/JIEBANG_TOKEN,
else the file `jiebang login` writes (``jiebang_client.config``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import click
import requests
from requests_toolbelt import MultipartEncoder, MultipartEncoderMonitor

from jiebang_client import config

CHUNK = 1024 * 1024
# A submission's final states (the server's evaluator.models.FINAL, as the API says them).
FINAL = frozenset({"scored", "failed", "rejected", "cancelled"})


class FileBody:
    """A file sent as the whole request body, in large pieces (little CPU per byte).

    Its length gives the request a Content-Length, so the server can refuse a file
    over its limit before it reads any of it.
    """

    def __init__(
        self, file: BinaryIO, size: int, advance: Callable[[int], object] = lambda n: None
    ) -> None:
        self.file, self.size, self.advance = file, size, advance

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.file.read(CHUNK):
            self.advance(len(chunk))
            yield chunk


server_option = click.option("--server", envvar="JIEBANG_SERVER", help="Server URL.")
token_option = click.option("--token", envvar="JIEBANG_TOKEN", help="API token.")


class Client:
    def __init__(self, server: str | None, token: str | None) -> None:
        self.server = config.server(server)
        self.token = config.token(token, self.server)

    def headers(self, *, required: bool = True) -> dict:
        if not self.token:
            if required:
                raise click.ClickException("log in first: jiebang login --server URL")
            return {}
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs) -> dict:
        headers = kwargs.pop("headers", {}) | self.headers(required=auth)
        try:
            response = requests.request(
                method,
                self.server + path,
                headers=headers,
                timeout=kwargs.pop("timeout", 60),
                **kwargs,
            )
        except requests.ConnectionError:
            raise click.ClickException(f"cannot reach {self.server}") from None
        try:
            body = response.json()
        except ValueError:
            raise click.ClickException(f"the server answered {response.status_code}") from None
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise click.ClickException(error.get("message") or f"HTTP {response.status_code}")
        return body

    def upload(self, path: str, field: str, file: Path, fields: dict, method: str = "POST") -> dict:
        """Stream ``file`` as multipart, with a progress bar on stderr."""
        size = file.stat().st_size
        with (
            open(file, "rb") as f,
            click.progressbar(
                length=size, label=f"uploading {file.name}", file=sys.stderr, show_pos=True
            ) as bar,
        ):
            encoder = MultipartEncoder(
                fields={**fields, field: (file.name, f, "application/octet-stream")}
            )
            seen = [0]

            def advance(monitor: MultipartEncoderMonitor) -> None:
                step = min(monitor.bytes_read, size) - seen[0]
                if step > 0:
                    bar.update(step)
                    seen[0] += step

            monitor = MultipartEncoderMonitor(encoder, advance)
            return self.call(
                method,
                path,
                data=monitor,
                headers={"Content-Type": monitor.content_type},
                timeout=3600,
            )

    def send_file(self, path: str, file: Path, params: dict) -> dict:
        """POST ``file`` as the raw request body, with a progress bar on stderr."""
        size = file.stat().st_size
        with (
            open(file, "rb") as f,
            click.progressbar(
                length=size, label=f"uploading {file.name}", file=sys.stderr, show_pos=True
            ) as bar,
        ):
            return self.call(
                "POST",
                path,
                params=params,
                data=FileBody(f, size, bar.update),
                headers={"Content-Type": "application/octet-stream"},
                timeout=3600,
            )

    def follow(self, submission_id: int) -> dict:
        delay = 0.5
        while True:
            body = self.call("GET", f"/api/v1/submissions/{submission_id}")
            if body["status"] in FINAL:
                return body
            time.sleep(delay)
            delay = min(delay * 1.5, 10)
