"""Per-run scratch directories holding a size-capped ``/output``.

Overlay2 on ext4 has no per-container disk quota, so ``/output`` is a tmpfs
of ``output_mb`` mounted on the host when we may mount (root); otherwise a
plain directory whose files the ``fsize`` ulimit caps one by one.

Every directory made here is named after its owner process (``owner.run_name``),
so ``reap`` can delete what a killed worker left, however deeply nested.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from sandboxes import owner

logger = logging.getLogger(__name__)

SANDBOX_UID = 10001
# Empty files cost no blocks but an inode each; cap them too (per MiB of the tmpfs).
INODES_PER_MB = 256
# <sys/mount.h>
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MNT_DETACH, UMOUNT_NOFOLLOW = 2, 8


@dataclass(frozen=True)
class Workspace:
    """A run's scratch directory and the ``/output`` directory inside it."""

    root: Path
    output: Path
    mounted: bool


def create(scratch_dir: Path, output_mb: int) -> Workspace:
    """Make a fresh run directory under ``scratch_dir`` with an output dir owned by uid 10001."""
    if not isinstance(output_mb, int) or output_mb < 1:
        # tmpfs reads size=0 (and nr_inodes=0) as "no limit".
        raise ValueError(f"output_mb must be a whole number of MiB, at least 1: {output_mb!r}")
    scratch_dir = Path(scratch_dir).resolve()
    scratch_dir.mkdir(parents=True, exist_ok=True)
    root = scratch_dir / owner.run_name()
    root.mkdir(mode=0o700)
    output = root / "output"
    output.mkdir(mode=0o755)
    mounted = _mount_tmpfs(output, output_mb)
    if not mounted:
        _hand_over(output)
    return Workspace(root=root, output=output, mounted=mounted)


def destroy(workspace: Workspace) -> None:
    """Unmount and delete a run directory; never follows links the run left behind."""
    _remove_tree(workspace.root)


def new_dir(scratch_dir: Path) -> Path:
    """A fresh private directory under ``scratch_dir`` for one job (code, runs).

    Its name carries this process's owner token, so if the process dies ``reap``
    deletes it, runs mounted inside it included.
    """
    scratch_dir = Path(scratch_dir).resolve()
    scratch_dir.mkdir(parents=True, exist_ok=True)
    path = scratch_dir / owner.run_name()
    path.mkdir(mode=0o700)
    return path


def remove_dir(path: Path) -> None:
    """Delete a ``new_dir`` directory: unmount whatever is mounted inside, follow no link."""
    _remove_tree(Path(path))


def reap(scratch_root: Path) -> int:
    """Delete run directories under ``scratch_root`` whose worker process is gone."""
    if not Path(scratch_root).is_dir():
        return 0
    removed = 0
    for child in Path(scratch_root).iterdir():
        if child.is_symlink() or not owner.is_leftover_run(child.name):
            continue
        logger.warning("removing leftover sandbox scratch directory %s", child)
        _remove_tree(child)
        removed += 1
    return removed


def _mount_tmpfs(path: Path, size_mb: int) -> bool:
    options = (
        f"size={size_mb}m,nr_inodes={size_mb * INODES_PER_MB},mode=0755,"
        f"uid={SANDBOX_UID},gid={SANDBOX_UID}"
    )
    # mount(2) itself, as mount(8) would call it: no program started twice per run.
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    if _libc().mount(b"tmpfs", os.fsencode(path), b"tmpfs", flags, options.encode()) == 0:
        return True
    logger.warning(
        "cannot mount a tmpfs on %s (%s); /output is capped only per file by the fsize ulimit",
        path,
        os.strerror(ctypes.get_errno()),
    )
    return False


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter runs on
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return libc


def _hand_over(path: Path) -> None:
    try:
        os.chown(path, SANDBOX_UID, SANDBOX_UID)
    except PermissionError:
        # Not root: the only way uid 10001 can write here.
        os.chmod(path, 0o777)


def _remove_tree(root: Path) -> None:
    # Deepest first: rmtree would empty a still-mounted tmpfs, then fail on its mount point.
    for mount_point in sorted(_mounts_under(root), key=len, reverse=True):
        _unmount(Path(mount_point))
    shutil.rmtree(root, ignore_errors=True)
    if root.exists() or root.is_symlink():
        logger.error("could not remove scratch directory %s", root)


def _mounts_under(root: Path) -> list[str]:
    """Mount points at or below ``root`` (as this process sees them)."""
    prefix = str(Path(root).resolve())
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return [str(root / "output")] if os.path.ismount(root / "output") else []
    points = []
    for line in lines:
        # Field 5 is the mount point, with space, tab, newline and backslash octal-escaped.
        point = _unescape(line.split(" ")[4])
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return points


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _unmount(path: Path) -> None:
    target = os.fsencode(path)
    if _libc().umount2(target, UMOUNT_NOFOLLOW) == 0:
        return
    # Something still holds it; detach now, the kernel frees it when released.
    reason = os.strerror(ctypes.get_errno())
    logger.warning("umount %s failed (%s); detaching lazily", path, reason)
    _libc().umount2(target, UMOUNT_NOFOLLOW | MNT_DETACH)
