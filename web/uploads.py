"""Uploads written once: straight from the request into the blob store.

Werkzeug spools each uploaded file of a multipart form to a temporary file, and
the blob store then copied, hashed and fsynced it again. On the views marked
``@into_blobs`` the request's files are written into the store's own temporary
files instead (``BlobStore.receive``), hashed as they arrive, and
``put_stream`` keeps that file where it is. A raw request body (the client's
``Content-Type: application/octet-stream`` upload) needs no parser at all: the
view hands ``request.stream`` to the service, which copies it in once.

Whatever is not kept is removed when the request ends, however it ends.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import IO

from flask import Request, current_app

from jiebang.blobs import Incoming, disk_full
from jiebang.errors import Unavailable
from jiebang.settings import MiB
from web.ext import services

log = logging.getLogger(__name__)

RAW_TYPES = frozenset({"application/octet-stream", "application/x-tar", "application/zip"})


def large_body(view):
    """Mark a view that takes a file upload as its body. Every other view takes a
    small body only (``max_request_bytes``, 1 MiB by default): a JSON route parsed
    2 GiB in memory, ``POST /api/v1/tokens`` before any login."""
    view.large_body = True
    return view


def work_dir() -> Path:
    """Where a request unpacks large uploads: on the data disk, beside the blobs."""
    path = services().settings.data_dir / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def challenge_body(view):
    """Mark a view that takes a sponsor's challenge bundle: a large body up to
    ``max_challenge_bytes`` (folders of test data run to gigabytes)."""
    view.body_cap = "max_challenge_bytes"
    return large_body(view)


def into_blobs(view):
    """Mark a view whose multipart files go straight into the blob store (a large body)."""
    view.into_blobs = True
    return large_body(view)


def is_raw_upload(request: Request) -> bool:
    """The body is the file itself (what `jiebang submit` sends), not a form."""
    return request.mimetype in RAW_TYPES


class UploadRequest(Request):
    """The app's request class: files of ``@into_blobs`` views land in the blob store."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._incoming: list[Incoming] = []

    @property
    def max_content_length(self) -> int | None:
        """The body cap of the view this request goes to (none matched: the small one)."""
        if self._max_content_length is not None:
            return self._max_content_length
        settings = current_app.config["JIEBANG"]
        view = current_app.view_functions.get(self.endpoint) if self.endpoint else None
        if getattr(view, "large_body", False):
            cap = getattr(view, "body_cap", None)
            return getattr(settings, cap) + MiB if cap else settings.max_upload_request_bytes
        return settings.max_request_bytes

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        view = current_app.view_functions.get(self.endpoint) if self.endpoint else None
        if getattr(view, "body_cap", None):
            # Gigabytes: on the data disk, never in /tmp (often a tmpfs, i.e. memory).
            return tempfile.TemporaryFile(dir=work_dir())
        if not getattr(view, "into_blobs", False):
            return super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )
        # No cap here: max_content_length bounds the body; the service applies the
        # cap for the kind of upload when it keeps the blob.
        incoming = services().blobs.receive()
        self._incoming.append(incoming)
        return incoming

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except OSError as exc:
            if not disk_full(exc):
                raise
            log.error("blob store is full: %s", exc)
            raise Unavailable(
                "file",
                "The platform is out of storage space; nothing was kept. Try again later.",
            ) from None

    def close(self) -> None:
        try:
            super().close()
        finally:
            # Also the files of a form that failed half-way, which never reached .files.
            for incoming in self._incoming:
                incoming.close()
