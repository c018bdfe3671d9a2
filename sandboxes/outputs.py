"""Check what a run left in its output folder before anything reads it.

A participant's ``/output`` is read on the host (``predictions.csv``) and mounted into
the scorer; either must meet only regular files and folders with printable names, and
not so many of them that listing them is the attack. The walk opens each folder
relative to its parent with ``O_NOFOLLOW`` and never opens a file, so no link is
followed and no path grows past ``PATH_MAX``, however deep the tree. It stops at the
first problem.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from sandboxes.messages import Refusal

__all__ = ["OutputError", "OutputSummary", "check_output"]

# What a team sees of a path: long enough to recognise, short enough for a message.
SHOWN_CHARS = 200
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# C0 and C1 controls, DEL, the Unicode line and paragraph separators, backslash: they
# break a listing, a log line or a Windows path; U+DC80-DCFF stand for bytes not UTF-8.
_BAD_CHAR = re.compile(r"[\x00-\x1f\x7f-\x9f\\\u2028\u2029\udc80-\udcff]")


class OutputError(Refusal):
    """The output folder holds something no reader may meet; ``code`` and ``params`` say
    what (``sandboxes.messages``), ``str()`` in English."""


@dataclass(frozen=True)
class OutputSummary:
    """What the output folder holds, the folder itself not counted."""

    files: int
    folders: int
    bytes: int


def check_output(
    root: Path,
    *,
    max_files: int = 100_000,
    max_depth: int = 32,
    max_name_bytes: int = 255,
) -> OutputSummary:
    """Count the files, folders and bytes under ``root``, following nothing.

    Raises OutputError at the first symbolic link (``output.link``), pipe, socket or
    device (``output.special``), entry past ``max_files`` files and folders
    (``output.too_many_files``), entry more than ``max_depth`` levels down
    (``output.too_deep``), folder that cannot be listed (``output.unreadable_folder``),
    or name that is not UTF-8, is longer than ``max_name_bytes`` or holds a control
    character or backslash (``output.bad_name``). Paths in ``params`` are relative to
    ``root``, escaped and shortened for the team's eyes. ``root`` itself must be a
    folder, not a link (OSError otherwise: it is ours, not the team's).
    """
    walk = _Walk(max_files=max_files, max_depth=max_depth, max_name_bytes=max_name_bytes)
    fd = os.open(root, _OPEN_DIR)
    try:
        walk.folder(fd, (), 1)
    finally:
        os.close(fd)
    return OutputSummary(files=walk.files, folders=walk.folders, bytes=walk.bytes)


class _Walk:
    def __init__(self, *, max_files: int, max_depth: int, max_name_bytes: int) -> None:
        self.max_files, self.max_depth, self.max_name_bytes = max_files, max_depth, max_name_bytes
        self.files = self.folders = self.bytes = 0

    def folder(self, fd: int, parents: tuple[str, ...], depth: int) -> None:
        """Check the entries of the open folder ``fd`` at ``depth`` (its children's)."""
        subfolders = []
        # scandir(fd) gives str names, undecodable bytes as surrogates: os.fsencode
        # restores them exactly.
        with os.scandir(fd) as entries:
            for entry in entries:
                path = (*parents, entry.name)
                self._check_name(entry.name, path)
                if self.files + self.folders >= self.max_files:
                    raise OutputError("output.too_many_files", limit=self.max_files)
                if depth > self.max_depth:
                    raise OutputError("output.too_deep", path=_shown(path), limit=self.max_depth)
                # d_type where the filesystem gives it (tmpfs does), else lstat.
                if entry.is_symlink():
                    raise OutputError("output.link", path=_shown(path))
                if entry.is_dir(follow_symlinks=False):
                    self.folders += 1
                    subfolders.append(entry.name)
                    continue
                info = entry.stat(follow_symlinks=False)
                if not stat.S_ISREG(info.st_mode):
                    raise OutputError("output.special", path=_shown(path))
                self.files += 1
                self.bytes += info.st_size
        for name in subfolders:
            path = (*parents, name)
            try:
                child = os.open(name, _OPEN_DIR, dir_fd=fd)
            except OSError as exc:
                # Replaced since the listing (by a link: ELOOP/ENOTDIR), or made
                # unreadable to a worker that is not root.
                raise OutputError("output.unreadable_folder", path=_shown(path)) from exc
            try:
                self.folder(child, path, depth + 1)
            finally:
                os.close(child)

    def _check_name(self, name: str, path: tuple[str, ...]) -> None:
        if _BAD_CHAR.search(name) or len(os.fsencode(name)) > self.max_name_bytes:
            raise OutputError("output.bad_name", path=_shown(path), limit=self.max_name_bytes)


def _shown(parts: tuple[str, ...]) -> str:
    """A relative path as a team may see it: escapes for what is not printable UTF-8,
    the middle left out past ``SHOWN_CHARS``."""
    tokens = [_escaped(char) for char in "/".join(parts)]
    if sum(map(len, tokens)) <= SHOWN_CHARS:
        return "".join(tokens)
    head, tail = _take(tokens, SHOWN_CHARS // 2), _take(tokens[::-1], SHOWN_CHARS // 2 - 1)
    return "".join(head) + "…" + "".join(reversed(tail))


def _escaped(char: str) -> str:
    if not _BAD_CHAR.match(char):
        return char
    if 0xDC80 <= ord(char) <= 0xDCFF:  # a byte that was not UTF-8
        return f"\\x{ord(char) - 0xDC00:02x}"
    return char.encode("unicode_escape").decode("ascii")


def _take(tokens: list[str], chars: int) -> list[str]:
    taken, used = [], 0
    for token in tokens:
        if used + len(token) > chars:
            break
        taken.append(token)
        used += len(token)
    return taken
