"""A content-addressed blob store on a local directory (sha256 names).

A blob is written to a temporary file in the same directory tree, hashed while it
streams, fsynced, then renamed into place: a reader never sees half a blob, and
an interrupted upload leaves nothing behind but a temporary file the next
``sweep_tmp`` removes.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{64}$")


class BlobTooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"upload larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _SHA.match(sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put_stream(self, stream: BinaryIO, *, max_bytes: int | None = None) -> Blob:
        """Copy ``stream`` in, hashing as it goes; refuse more than ``max_bytes``."""
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise BlobTooLarge(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            blob = Blob(digest.hexdigest(), size)
            final = self.path(blob.sha256)
            # Same name and size: the same bytes are stored already. A stored blob of
            # another size was damaged on disk, and the fresh copy replaces it.
            if final.exists() and final.stat().st_size == size:
                os.unlink(tmp_name)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmp_name, 0o444)
                os.replace(tmp_name, final)
            return blob
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def put_path(self, path: Path, *, max_bytes: int | None = None) -> Blob:
        with open(path, "rb") as stream:
            return self.put_stream(stream, max_bytes=max_bytes)

    def put_bytes(self, data: bytes) -> Blob:
        return self.put_stream(io.BytesIO(data))

    def verify(self, sha256: str) -> bool:
        """True when the stored bytes still hash to their name."""
        digest = hashlib.sha256()
        with open(self.path(sha256), "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest() == sha256
