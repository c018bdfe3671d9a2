"""Reading an untrusted file safely: a regular file (no symlink, FIFO, device or directory),
under a size cap, non-empty UTF-8 text without NUL bytes."""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path

from evaluator.prediction_errors import PredictionError, at, not_a_file, too_large

log = logging.getLogger(__name__)

BOM = b"\xef\xbb\xbf"
_KINDS = (
    (stat.S_ISLNK, "symlink"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
)


def read_text(path: Path, max_bytes: int) -> bytes:
    """The file's bytes without a BOM, once checked to be non-empty UTF-8 text."""
    return _decoded(_read_bytes(path, max_bytes), path.name)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    name = path.name
    try:
        _check_kind(os.lstat(path), name)  # before opening: opening a device can act
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise PredictionError("missing", "output.missing", file=name) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise not_a_file(name, "symlink") from None
        log.warning("cannot open %s: %s", path, exc)
        raise PredictionError("unreadable", "output.unreadable", file=name) from None
    with open(fd, "rb", buffering=0) as f:
        info = os.fstat(fd)
        _check_kind(info, name)  # the file may have been swapped since lstat
        if info.st_size > max_bytes:
            raise too_large(name, info.st_size, max_bytes)
        chunks, total = [], 0
        while chunk := f.read(min(max(info.st_size + 1 - total, 1 << 16), max_bytes + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # grew after fstat
                raise too_large(name, total, max_bytes)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)  # one chunk: no copy


def _check_kind(info: os.stat_result, name: str) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    for test, kind in _KINDS:
        if test(info.st_mode):
            raise not_a_file(name, kind)
    raise not_a_file(name, "device")


def _decoded(data: bytes, name: str) -> bytes:
    if data.startswith(BOM):
        data = data[len(BOM) :]
    if not data or data.isspace():
        raise PredictionError("empty", "output.empty_file", file=name)
    nul = data.find(b"\0")
    if nul >= 0:
        raise at(name, data.count(b"\n", 0, nul) + 1, "binary", "output.binary")
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise at(name, line, "encoding", "output.encoding") from None
    return data
