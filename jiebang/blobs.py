"""A content-addressed blob store on a local directory (sha256 names).

A blob is written to a temporary file in the store's ``tmp`` folder, hashed while
it streams, fsynced, then renamed into place: a reader never sees half a blob,
and an interrupted upload leaves nothing behind but, at worst (the process
died), a temporary file that ``sweep_tmp`` removes.

Bytes arrive in one of two ways: ``put_stream`` copies from a stream, or a
caller that is handed the bytes piece by piece (a request parser) writes them
into ``receive()``'s ``Incoming`` and the store keeps that file where it is.
Either way every byte is written once.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{64}$")
TMP_PREFIX = "upload-"


def disk_full(exc: OSError) -> bool:
    """The error says the blob disk (or the writer's quota) is full."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


class BlobTooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"upload larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int


class Incoming(io.RawIOBase):
    """A blob being received: a temporary file in the store, hashed and counted as it
    is written. ``BlobStore.put_stream`` keeps it in place; ``close`` without that
    removes it. Written strictly in order; after a seek it is read-only, so the hash
    always covers exactly the bytes on disk.
    """

    def __init__(self, store: BlobStore, max_bytes: int | None = None) -> None:
        super().__init__()
        self.store = store
        self.max_bytes = max_bytes
        self.size = 0
        self._digest = hashlib.sha256()
        self._sealed = False
        self._fd, self.name = -1, ""
        tmp_dir = store.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self._fd, self.name = tempfile.mkstemp(dir=tmp_dir, prefix=TMP_PREFIX)

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return not self._sealed

    def seekable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self._sealed or self.closed:
            raise ValueError("an Incoming blob is written in one pass only")
        view = memoryview(data).cast("B")
        n = len(view)
        if self.max_bytes is not None and self.size + n > self.max_bytes:
            raise BlobTooLarge(self.max_bytes)
        self._digest.update(view)
        while view:
            view = view[os.write(self._fd, view) :]
        self.size += n
        return n

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._sealed = True  # werkzeug rewinds a finished part; from here on, read only
        return os.lseek(self._fd, offset, whence)

    def tell(self) -> int:
        return os.lseek(self._fd, 0, os.SEEK_CUR)

    def readinto(self, buffer) -> int:
        self._sealed = True
        return os.readv(self._fd, [buffer])

    def keep(self, *, max_bytes: int | None = None) -> Blob:
        """fsync and rename into place; refuse (and remove) more than ``max_bytes``."""
        if self.closed:
            raise ValueError("this upload was closed (and removed) before it was kept")
        try:
            if max_bytes is not None and self.size > max_bytes:
                raise BlobTooLarge(max_bytes)
            os.fsync(self._fd)
            blob = Blob(self._digest.hexdigest(), self.size)
            final = self.store.path(blob.sha256)
            # Same name and size: the same bytes are stored already. A stored blob of
            # another size was damaged on disk, and the fresh copy replaces it.
            if final.exists() and final.stat().st_size == self.size:
                os.unlink(self.name)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.fchmod(self._fd, 0o444)
                os.replace(self.name, final)
            self.name = ""
            return blob
        finally:
            self.close()

    def close(self) -> None:
        """Close; a blob not kept is removed."""
        if self.closed:
            return
        try:
            if self._fd >= 0:
                os.close(self._fd)
            if self.name:
                os.unlink(self.name)
        except FileNotFoundError:
            pass  # swept already
        finally:
            self._fd, self.name = -1, ""
            super().close()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _SHA.match(sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def receive(self, *, max_bytes: int | None = None) -> Incoming:
        """A temporary file to write a blob into; ``put_stream`` keeps it."""
        return Incoming(self, max_bytes)

    def put_stream(self, stream: BinaryIO, *, max_bytes: int | None = None) -> Blob:
        """Store ``stream``'s bytes, hashing as they go; refuse more than ``max_bytes``.

        An ``Incoming`` of this store is already here and hashed: it is kept in place.
        """
        if isinstance(stream, Incoming) and stream.store.root == self.root:
            return stream.keep(max_bytes=max_bytes)
        incoming = self.receive(max_bytes=max_bytes)
        try:
            for chunk in _chunks(stream):
                incoming.write(chunk)
            return incoming.keep()
        finally:
            incoming.close()

    def put_path(self, path: Path, *, max_bytes: int | None = None) -> Blob:
        with open(path, "rb") as stream:
            return self.put_stream(stream, max_bytes=max_bytes)

    def put_bytes(self, data: bytes) -> Blob:
        return self.put_stream(io.BytesIO(data))

    def sweep_tmp(self, *, older_than_s: float = 6 * 3600) -> int:
        """Remove temporary files left by uploads whose process died; return how many.

        A live upload writes to its file continuously, so only files untouched for
        ``older_than_s`` go.
        """
        removed = 0
        cutoff = time.time() - older_than_s
        try:
            entries = list(os.scandir(self.root / "tmp"))
        except FileNotFoundError:
            return 0
        for entry in entries:
            try:
                if entry.name.startswith(TMP_PREFIX) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue  # another sweeper, or the upload finished
        return removed

    def verify(self, sha256: str) -> bool:
        """True when the stored bytes still hash to their name."""
        digest = hashlib.sha256()
        with open(self.path(sha256), "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest() == sha256


def _chunks(stream: BinaryIO):
    """The stream's bytes in pieces, read into one reused buffer where the stream can."""
    buffer = memoryview(bytearray(CHUNK))
    try:
        n = stream.readinto(buffer)
    except (AttributeError, NotImplementedError, io.UnsupportedOperation):
        while chunk := stream.read(CHUNK):  # nothing was read yet
            yield chunk
        return
    while n:
        yield buffer[:n]
        n = stream.readinto(buffer)
