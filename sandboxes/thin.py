"""Thin image archives: leave out the layers every worker already holds.

An image built on the platform's base image carries the base's layers in every
`docker save` (hundreds of MB). The server publishes the diff ids of its base
layers; ``thin_archive`` copies an archive without the files of exactly those
layers; ``inspect_image_archive(..., shared_layers=...)`` accepts such an
archive, and `docker load` reuses the layers the engine already has.
"""

from __future__ import annotations

import json
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path

import docker

from sandboxes.base import BASE_IMAGE

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Thinned:
    before: int
    after: int
    layers_left_out: int


def base_layers(client: docker.DockerClient, tag: str = BASE_IMAGE) -> list[str]:
    """The diff ids of the base image's layers (empty when it is not built here)."""
    try:
        return list(client.images.get(tag).attrs["RootFS"]["Layers"])
    except docker.errors.ImageNotFound:
        return []


def _layer_files(tar: tarfile.TarFile) -> list[tuple[str, str]]:
    """(member name, diff id) for each layer of the archive's single image."""
    names = {m.name: m for m in tar.getmembers()}
    manifest = json.load(tar.extractfile(names["manifest.json"]))
    entry = manifest[0]
    config = json.load(tar.extractfile(names[entry["Config"]]))
    return list(zip(entry["Layers"], config["rootfs"]["diff_ids"], strict=True))


def thin_archive(source: Path, dest: Path, shared: set[str] | frozenset[str]) -> Thinned:
    """Copy ``source`` to ``dest`` leaving out the files of layers in ``shared``."""
    with tarfile.open(source) as tar:
        layers = _layer_files(tar)
        members = {m.name: m for m in tar.getmembers()}
        drop = {name for name, diff in layers if diff in shared}
        keep = {name for name, diff in layers if diff not in shared}
        # A kept layer may be a link to an earlier layer's file: that file stays.
        for name in keep:
            member = members.get(name)
            if member is not None and member.issym():
                drop.discard(
                    posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
                )
        with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as out:
            for member in tar.getmembers():
                if member.name in drop:
                    continue
                if member.isreg():
                    with tar.extractfile(member) as data:
                        out.addfile(member, data)
                else:
                    out.addfile(member)
    return Thinned(Path(source).stat().st_size, Path(dest).stat().st_size, len(drop))
