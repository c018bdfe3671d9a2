"""Check a ``docker save`` archive before Docker sees it, then load it safely.

Only the outer tar is read here: its members, ``manifest.json`` and the image
config. Layers are left to Docker, which unpacks them into its own storage.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from sandboxes import tarstream
from sandboxes.messages import HOW_TO_SAVE, Refusal

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MAX_JSON_BYTES = 4 * 1024 * 1024
# What tarfile raises on input that is not a (complete) tar.
_UNREADABLE = (tarfile.TarError, EOFError)
_MACHINE_TO_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class ArchiveError(Refusal):
    """The upload is not an acceptable image archive; ``code`` and ``params`` say why
    (``sandboxes.messages``), ``str()`` in English."""


@dataclass(frozen=True)
class ImageArchive:
    """What an accepted archive holds: the image id (config digest), layer diff ids, file size."""

    image_id: str
    layers: tuple[str, ...]
    size: int


# What a compressed file starts with; `docker save` writes a plain tar.
_COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}


def _check_plain_tar(path: Path) -> None:
    """Refuse anything but a POSIX tar from its first block, before any parsing."""
    with open(path, "rb") as f:
        head = f.read(tarfile.BLOCKSIZE)
    for magic, name in _COMPRESSED.items():
        if head.startswith(magic):
            raise ArchiveError("archive.compressed", format=name)
    # Every tar `docker save` writes (ustar, PAX or GNU) carries this magic.
    if len(head) < tarfile.BLOCKSIZE or head[257:262] != b"ustar":
        raise ArchiveError("archive.not_archive", hint=HOW_TO_SAVE)


def inspect_image_archive(
    path: Path,
    *,
    max_bytes: int = 2 * 1024**3,
    max_members: int = 10_000,
    max_layers: int = 127,
    shared_layers: frozenset[str] = frozenset(),
) -> ImageArchive:
    """Validate the archive at ``path`` without loading it; raise ArchiveError when unfit.

    ``shared_layers``: diff ids of the platform's base-image layers, which every
    worker holds. A "thin" archive may leave exactly those layers' files out
    (see ``thin.py``); any other missing layer is refused.
    """
    size = Path(path).stat().st_size
    if size > max_bytes:
        raise ArchiveError("archive.too_large", size_mib=_mib(size), limit_mib=_mib(max_bytes))
    _check_plain_tar(path)
    try:
        # "r:", never "r:*": a non-tar fed to the decompressors cost minutes of CPU.
        with tarfile.open(path, mode="r:") as tar:
            members = _scan(tar, max_bytes=max_bytes, max_members=max_members)
            entry = _manifest_entry(tar, members)
            layers = _layer_paths(entry, members, max_layers)
            config_name, digest = _config_digest(tar, members, entry)
            config = _read_json(tar, members[config_name], config_name)
    except _UNREADABLE as exc:
        logger.info("unreadable archive %s: %s", path, exc)
        raise ArchiveError("archive.not_archive", hint=HOW_TO_SAVE) from exc
    diff_ids = _check_config(config, len(layers))
    for name, diff_id in zip(layers, diff_ids, strict=True):
        if name in members or diff_id not in shared_layers:
            _check_layer_member(name, members)
    return ImageArchive(image_id=f"sha256:{digest}", layers=diff_ids, size=size)


def load_image(client: docker.DockerClient, path: Path, archive: ImageArchive) -> str:
    """``docker load`` the checked archive with its tags stripped; return the image id.

    The archive is rewritten on the fly so that no name in it can tag (or
    retag) an image on this host, such as the base image.
    """
    try:
        loaded = _docker_load(client, path)
    except ArchiveError:
        raise
    except (*_UNREADABLE, ValueError) as exc:
        # The file changed since inspection, or a member only fails when streamed.
        logger.warning("rewriting %s for docker load failed: %s", path, exc)
        raise ArchiveError("archive.damaged", hint=HOW_TO_SAVE) from exc
    if loaded != [archive.image_id]:
        logger.warning("docker load of %s gave %s, expected %s", path, loaded, archive.image_id)
        raise ArchiveError("archive.other_image", hint=HOW_TO_SAVE)
    return archive.image_id


def _docker_load(client: docker.DockerClient, path: Path) -> list[str]:
    """Stream the untagged archive to ``docker load``; return the image ids it reports."""
    body = tarstream.untagged(path, check=check_member)
    loaded: list[str] = []
    for message in client.api.load_image(body, quiet=False):
        if "error" in message:
            logger.warning("docker load of %s failed: %s", path, message["error"])
            raise ArchiveError("archive.not_loaded", hint=HOW_TO_SAVE)
        text = str(message.get("stream", ""))
        if text.startswith("Loaded image ID:"):
            loaded.append(text.split(":", 1)[1].strip())
    return loaded


def normalize(name: str) -> str:
    """The member name as Docker will see it, or ArchiveError when it escapes the archive."""
    if name.startswith("/") or "\\" in name or "\0" in name:
        raise ArchiveError("archive.unsafe_name", name=name, hint=HOW_TO_SAVE)
    if ".." in name.split("/"):
        raise ArchiveError("archive.dotdot_name", name=name, hint=HOW_TO_SAVE)
    return posixpath.normpath(name)


def check_member(member: tarfile.TarInfo) -> str:
    """Check one member's name and type (links are judged later); return its normal name."""
    name = normalize(member.name)
    if member.issparse() or not (member.isreg() or member.isdir() or member.issym()):
        raise ArchiveError("archive.special_member", name=name, hint=HOW_TO_SAVE)
    return name


def _scan(tar: tarfile.TarFile, *, max_bytes: int, max_members: int) -> dict[str, tarfile.TarInfo]:
    members: dict[str, tarfile.TarInfo] = {}
    total = 0
    for count, member in enumerate(tar, start=1):
        if count > max_members:
            raise ArchiveError("archive.too_many_members", limit=max_members, hint=HOW_TO_SAVE)
        name = check_member(member)
        total += member.size
        if total > max_bytes:
            raise ArchiveError("archive.unpacks_too_large", limit_mib=_mib(max_bytes))
        if name in members:
            raise ArchiveError("archive.twice", name=name, hint=HOW_TO_SAVE)
        members[name] = member
    return members


def _read_json(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str) -> Any:
    data = _read_small(tar, member, name)
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ArchiveError("archive.bad_json", name=name, hint=HOW_TO_SAVE) from exc


def _read_small(tar: tarfile.TarFile, member: tarfile.TarInfo, name: str) -> bytes:
    if not member.isreg() or member.size > MAX_JSON_BYTES:
        raise ArchiveError("archive.not_small_file", name=name, hint=HOW_TO_SAVE)
    handle = tar.extractfile(member)
    assert handle is not None  # a regular member always has data
    return handle.read()


def _manifest_entry(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> dict[str, Any]:
    if MANIFEST not in members:
        raise ArchiveError("archive.no_manifest", hint=HOW_TO_SAVE)
    manifest = _read_json(tar, members[MANIFEST], MANIFEST)
    if not isinstance(manifest, list) or len(manifest) != 1 or not isinstance(manifest[0], dict):
        if not isinstance(manifest, list):
            raise ArchiveError("archive.images_unknown")
        raise ArchiveError("archive.images", count=len(manifest))
    return manifest[0]


def _layer_paths(
    entry: dict[str, Any], members: dict[str, tarfile.TarInfo], max_layers: int
) -> list[str]:
    layers = entry.get("Layers")
    if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
        raise ArchiveError("archive.no_layers", hint=HOW_TO_SAVE)
    if len(layers) > max_layers:
        raise ArchiveError("archive.too_many_layers", count=len(layers), limit=max_layers)
    names = [normalize(layer) for layer in layers]
    _refuse_stray_links(members, set(names))
    return names


def _check_layer_member(name: str, members: dict[str, tarfile.TarInfo]) -> None:
    member = members.get(name)
    if member is not None and member.issym():
        # `docker save` writes a layer that repeats an earlier one's content as a
        # relative link to it; accept exactly that and nothing else.
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
        member = members.get(target) if not target.startswith(("/", "..")) else None
        if member is not None and member.issym():
            member = None
    if member is None or not member.isreg():
        raise ArchiveError("archive.missing_layer", name=name, hint=HOW_TO_SAVE)


def _refuse_stray_links(members: dict[str, tarfile.TarInfo], layers: set[str]) -> None:
    for name, member in members.items():
        if member.issym() and name not in layers:
            raise ArchiveError("archive.link", name=name, hint=HOW_TO_SAVE)


def _config_digest(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], entry: dict[str, Any]
) -> tuple[str, str]:
    config = entry.get("Config")
    name = normalize(config) if isinstance(config, str) else ""
    member = members.get(name)
    if member is None:
        raise ArchiveError("archive.no_config", hint=HOW_TO_SAVE)
    digest = hashlib.sha256(_read_small(tar, member, name)).hexdigest()
    # Legacy saves name it <digest>.json, OCI layouts blobs/sha256/<digest>.
    if posixpath.basename(name).removesuffix(".json") != digest:
        raise ArchiveError("archive.config_digest", hint=HOW_TO_SAVE)
    return name, digest


def _check_config(config: Any, layer_count: int) -> tuple[str, ...]:
    if not isinstance(config, dict):
        raise ArchiveError("archive.config_not_object", hint=HOW_TO_SAVE)
    _check_platform(config)
    settings = config.get("config") or {}
    if not isinstance(settings, dict):
        raise ArchiveError("archive.config_malformed", hint=HOW_TO_SAVE)
    if settings.get("Volumes"):
        raise ArchiveError("archive.volumes", volumes=", ".join(sorted(settings["Volumes"])))
    if not settings.get("Entrypoint") and not settings.get("Cmd"):
        raise ArchiveError("archive.no_command")
    diff_ids = (config.get("rootfs") or {}).get("diff_ids")
    if not isinstance(diff_ids, list) or len(diff_ids) != layer_count:
        raise ArchiveError("archive.layers_disagree", hint=HOW_TO_SAVE)
    return tuple(str(x) for x in diff_ids)


def _check_platform(config: dict[str, Any]) -> None:
    want = _MACHINE_TO_ARCH.get(platform.machine().lower(), platform.machine().lower())
    got_os, got_arch = config.get("os"), config.get("architecture")
    if got_os != "linux" or got_arch != want:
        raise ArchiveError("archive.platform", got=f"{got_os}/{got_arch}", want=want)


def _mib(n: int) -> int:
    return -(-n // (1024 * 1024))
