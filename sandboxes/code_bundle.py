"""Check and unpack code bundles: a zip with ``main.py`` at its root."""

from __future__ import annotations

import logging
import os
import posixpath
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from sandboxes.messages import HOW_TO_ZIP, Refusal

logger = logging.getLogger(__name__)

ENTRY_POINT = "main.py"
# Below this size a high compression ratio is harmless (a small CSV of zeros).
RATIO_FLOOR_BYTES = 1024 * 1024
CHUNK = 1024 * 1024
# Zip end-of-central-directory structures (APPNOTE 4.3.12-4.3.16), unpacked only where needed.
_EOCD_SIGNATURE, _EOCD = b"PK\x05\x06", struct.Struct("<12xI6x")
_ZIP64_LOCATOR_SIGNATURE, _ZIP64_LOCATOR = b"PK\x06\x07", struct.Struct("<8xQ4x")
_ZIP64_EOCD_SIGNATURE, _ZIP64_EOCD = b"PK\x06\x06", struct.Struct("<40xQ8x")
_CD_SIGNATURE, _CD_HEADER = b"PK\x01\x02", struct.Struct("<4s24xHHH12x")


class CodeBundleError(Refusal):
    """The upload is not an acceptable bundle; ``code`` and ``params`` say why
    (``sandboxes.messages``), ``str()`` in English."""


@dataclass(frozen=True)
class BundleInfo:
    """Number of files and their total uncompressed size."""

    files: int
    size: int


def check_bundle(
    path: Path,
    *,
    max_bytes: int = 100 * 1024 * 1024,
    max_files: int = 10_000,
    max_ratio: int = 100,
) -> BundleInfo:
    """Validate the zip at ``path`` without unpacking it; raise CodeBundleError when unfit.

    Every member is decompressed once (into nothing) to catch sizes and checksums
    that lie; the size and ratio caps are checked before, so this stays cheap.
    """
    # Counted straight from the central directory first: parsing a million entries
    # with zipfile would take seconds and hundreds of MB before the count could refuse.
    # Folders are entries too, so allow a margin before this cheaper count refuses.
    most_entries = 2 * max_files + 1000
    counted = _count_entries(path, stop_after=most_entries + 1)
    if counted is not None and counted > most_entries:
        raise CodeBundleError("bundle.too_many_entries", count=most_entries, limit=max_files)
    entries = _open_entries(path)
    files = [e for e in entries if not e.is_dir()]
    if len(files) > max_files:
        raise CodeBundleError("bundle.too_many_files", count=len(files), limit=max_files)
    size = sum(e.file_size for e in files)
    if size > max_bytes:
        raise CodeBundleError("bundle.too_large", size_mib=_mib(size), limit_mib=_mib(max_bytes))
    compressed = max(Path(path).stat().st_size, 1)
    for entry in files:
        _check_ratio(entry.filename, entry.file_size, entry.compress_size, max_ratio)
    _check_ratio(None, size, compressed, max_ratio)
    _verify_data(path, files)
    return BundleInfo(files=len(files), size=size)


def _count_entries(path: Path, *, stop_after: int) -> int | None:
    """Central directory records in the zip, counted up to ``stop_after``; None if unreadable.

    Walks the records themselves rather than trusting the count in the end record.
    """
    try:
        with open(path, "rb") as f:
            start = _central_directory_start(f)
            if start is None:
                return None
            f.seek(start)
            count = 0
            while count < stop_after:
                header = f.read(_CD_HEADER.size)
                if len(header) < _CD_HEADER.size or header[:4] != _CD_SIGNATURE:
                    break
                name, extra, comment = _CD_HEADER.unpack(header)[1:]
                f.seek(name + extra + comment, os.SEEK_CUR)
                count += 1
            return count
    except OSError:
        return None


def _central_directory_start(f) -> int | None:
    size = f.seek(0, os.SEEK_END)
    tail_size = min(size, _EOCD.size + 0xFFFF + _ZIP64_LOCATOR.size)
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    at = tail.rfind(_EOCD_SIGNATURE)
    if at < 0 or len(tail) - at < _EOCD.size:
        return None
    locator = at - _ZIP64_LOCATOR.size
    if locator < 0 or tail[locator : locator + 4] != _ZIP64_LOCATOR_SIGNATURE:
        # Measured back from the end record, as zipfile does, so prepended data is fine.
        (cd_size,) = _EOCD.unpack_from(tail, at)
        return size - tail_size + at - cd_size
    (record_offset,) = _ZIP64_LOCATOR.unpack_from(tail, locator)
    f.seek(record_offset)
    record = f.read(_ZIP64_EOCD.size)
    if len(record) < _ZIP64_EOCD.size or record[:4] != _ZIP64_EOCD_SIGNATURE:
        return None
    (cd_size,) = _ZIP64_EOCD.unpack(record)
    return record_offset - cd_size


def _verify_data(path: Path, files: list[zipfile.ZipInfo]) -> None:
    """Inflate every file once, refusing one larger than declared or with a bad checksum."""
    try:
        with zipfile.ZipFile(path) as archive:
            for entry in files:
                read = 0
                with archive.open(entry) as src:
                    while chunk := src.read(CHUNK):
                        read += len(chunk)
                        if read > entry.file_size:
                            raise CodeBundleError("bundle.larger_than_said", name=entry.filename)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        logger.info("bundle %s fails verification: %s", path, exc)
        raise CodeBundleError("bundle.damaged", hint=HOW_TO_ZIP) from exc


def extract_bundle(path: Path, dest: Path) -> Path:
    """Unpack the bundle into the fresh directory ``dest``; return it.

    Names and types are checked again here, files are written one by one
    without following links, and made world-readable so uid 10001 can read them.
    """
    entries = _open_entries(path)
    dest = Path(dest)
    dest.mkdir(mode=0o755, parents=True, exist_ok=False)
    os.chmod(dest, 0o755)
    try:
        with zipfile.ZipFile(path) as archive:
            for entry in entries:
                target = dest.joinpath(*_safe_name(entry.filename).split("/"))
                if entry.is_dir():
                    _make_dirs(dest, target)
                else:
                    _make_dirs(dest, target.parent)
                    _write(archive, entry, target)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise CodeBundleError("bundle.damaged", hint=HOW_TO_ZIP) from exc
    logger.info("extracted bundle %s into %s (%d entries)", path, dest, len(entries))
    return dest


def _open_entries(path: Path) -> list[zipfile.ZipInfo]:
    if not zipfile.is_zipfile(path):
        raise CodeBundleError("bundle.not_zip", hint=HOW_TO_ZIP)
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise CodeBundleError("bundle.damaged", hint=HOW_TO_ZIP) from exc
    seen: set[str] = set()
    for entry in entries:
        name = _safe_name(entry.filename)
        _check_type(entry)
        if name in seen:
            raise CodeBundleError("bundle.twice", name=name, hint=HOW_TO_ZIP)
        seen.add(name)
    _require_entry_point(entries)
    return entries


def _safe_name(name: str) -> str:
    if name.startswith("/") or "\\" in name or "\0" in name or ":" in name.split("/")[0]:
        raise CodeBundleError("bundle.unsafe_name", name=name, hint=HOW_TO_ZIP)
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts or not parts:
        raise CodeBundleError("bundle.unsafe_name", name=name, hint=HOW_TO_ZIP)
    return posixpath.join(*parts)


def _check_type(entry: zipfile.ZipInfo) -> None:
    if entry.flag_bits & 0x1:
        raise CodeBundleError("bundle.encrypted", name=entry.filename)
    mode = entry.external_attr >> 16
    kind = stat.S_IFMT(mode)
    # Zips made on Windows carry no Unix mode (kind 0): plain files or directories.
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        code = "bundle.symlink" if kind == stat.S_IFLNK else "bundle.special"
        raise CodeBundleError(code, name=entry.filename)


def _require_entry_point(entries: list[zipfile.ZipInfo]) -> None:
    names = [_safe_name(e.filename) for e in entries if not e.is_dir()]
    if ENTRY_POINT in names:
        return
    nested = [n for n in names if posixpath.basename(n) == ENTRY_POINT]
    if nested:
        raise CodeBundleError("bundle.nested_main", name=nested[0], hint=HOW_TO_ZIP)
    raise CodeBundleError("bundle.no_main", hint=HOW_TO_ZIP)


def _check_ratio(name: str | None, size: int, compressed: int, max_ratio: int) -> None:
    """``name``: a file in the bundle, or None for the whole bundle."""
    if size > RATIO_FLOOR_BYTES and size > max_ratio * max(compressed, 1):
        if name is None:
            raise CodeBundleError("bundle.ratio", limit=max_ratio)
        raise CodeBundleError("bundle.ratio_file", name=name, limit=max_ratio)


def _make_dirs(root: Path, target: Path) -> None:
    """Create ``target`` and its parents below ``root``, refusing anything that is not a dir."""
    current = root
    for part in target.relative_to(root).parts:
        current = current / part
        try:
            current.mkdir(mode=0o755)
            os.chmod(current, 0o755)
        except FileExistsError:
            if current.is_symlink() or not current.is_dir():
                raise CodeBundleError("bundle.file_and_folder", name=part) from None


def _write(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, target: Path) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        fd = os.open(target, flags, 0o644)
    except FileExistsError:
        raise CodeBundleError("bundle.file_and_folder", name=entry.filename) from None
    written = 0
    with os.fdopen(fd, "wb") as out, archive.open(entry) as src:
        for chunk in iter(lambda: src.read(CHUNK), b""):
            written += len(chunk)
            # zipfile stops at the declared size; this guards that promise.
            if written > entry.file_size:
                raise CodeBundleError("bundle.larger_than_said", name=entry.filename)
            out.write(chunk)
        os.fchmod(out.fileno(), 0o644)


def _mib(n: int) -> int:
    return -(-n // (1024 * 1024))
