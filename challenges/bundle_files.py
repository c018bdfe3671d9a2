"""Names in a bundle reach the filesystem only through here: inside the folder, no link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from challenges.problems import Missing


class ChallengeBundleError(ValueError):
    """What is wrong with a sponsor's challenge bundle, one line per problem, each naming
    the key or file."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def member_path(root: Path, name: str) -> Path:
    """The regular file ``name`` inside the bundle folder ``root``.

    A name from challenge.yaml never reaches the filesystem unchecked: it must be
    relative, free of ``..``, reach no link on the way (checked per component with
    lstat, so a link cannot be followed out), and resolve inside ``root``. Raises
    ``FileNotFoundError`` with a message that names the file, whatever the reason.
    """
    here = _walk_to(root, name)
    if not stat.S_ISREG(os.lstat(here).st_mode):
        raise Missing("files.not_found", name=name)
    return here


def member_entry(root: Path, name: str) -> Path:
    """The file or folder ``name`` inside ``root``, checked as ``member_path`` checks a file;
    a folder's whole tree must hold only regular files and folders (no link, no device)."""
    stripped = name.rstrip("/") or name
    try:
        return member_path(root, stripped)
    except FileNotFoundError:
        pass
    here = _walk_to(root, stripped, "file or folder")
    if not stat.S_ISDIR(os.lstat(here).st_mode):
        raise Missing("files.entry_not_found", name=name)
    for folder, dirs, files in os.walk(here):
        for entry in dirs + files:
            path = Path(folder, entry)
            mode = os.lstat(path).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                inside = path.relative_to(root.resolve())
                raise Missing("files.special", name=str(inside), folder=name)
    return here


def _walk_to(root: Path, name: str, what: str = "file") -> Path:
    parts = Path(name).parts
    if not name or Path(name).is_absolute() or "\\" in name or ".." in parts:
        raise Missing("files.bad_name", name=name)
    base = root.resolve()
    here = base
    for part in parts:
        here = here / part
        try:
            info = os.lstat(here)
        except OSError:
            code = "files.not_found" if what == "file" else "files.entry_not_found"
            raise Missing(code, name=name) from None
        if stat.S_ISLNK(info.st_mode):
            raise Missing("files.link", name=name)
    if not here.resolve().is_relative_to(base):
        raise Missing("files.not_found", name=name)
    return here
