"""A folder of a bundle kept as one blob: a plain tar, the same bytes for the same files.

Names sorted, times, owners and modes fixed, so the blob's hash (and the challenge's
dataset hash) depends on the files alone, and re-uploading an unchanged folder stores
nothing new. Written as a stream into the blob store and unpacked as a stream on the
worker: a folder of many gigabytes never sits in memory.
"""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path
from typing import BinaryIO


def pack(folder: Path, out: BinaryIO) -> None:
    """Write ``folder``'s tree (regular files and folders only) to ``out`` as a tar."""
    folder = Path(folder)
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for path in _tree(folder):
            relative = path.relative_to(folder).as_posix()
            info = tarfile.TarInfo(relative)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode):
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif stat.S_ISREG(mode):
                info.mode, info.size = 0o644, os.lstat(path).st_size
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:  # checked when the bundle was opened (bundle_files.member_entry)
                raise ValueError(f"{relative}: not a regular file or folder")


def _tree(folder: Path):
    """Every entry under ``folder``, parents before children, names sorted."""
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        path = Path(entry.path)
        yield path
        if entry.is_dir(follow_symlinks=False):
            yield from _tree(path)


def unpack(blob: Path, dest: Path) -> None:
    """Unpack a ``pack`` blob into the folder ``dest`` (made if missing)."""
    dest.mkdir(parents=True, exist_ok=True)
    with open(blob, "rb") as f, tarfile.open(fileobj=f, mode="r|") as tar:
        # "data": no links, no devices, nothing outside dest, no set-id bits.
        tar.extractall(dest, filter="data")


def read_only(root: Path) -> None:
    """Files 0444, folders 0555: every sandbox user may read, nobody may change."""
    for folder, dirs, files in os.walk(root):
        for name in files:
            os.chmod(Path(folder, name), 0o444)
        for name in dirs:
            os.chmod(Path(folder, name), 0o555)
    os.chmod(root, 0o555)
