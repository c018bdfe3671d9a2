"""Loading an archive into Docker: tags stripped on the fly, the image id checked."""

from __future__ import annotations

import contextlib
import io
import json
import tarfile

import docker
import pytest

import sandboxes
from sandboxes import ArchiveError, ImageArchive, inspect_image_archive, load_image, tarstream
from sandboxes.archive import check_member

_NAMES = {
    "io.containerd.image.name": "docker.io/jiebang/python:3.11",
    "org.opencontainers.image.ref.name": "3.11",
    "other": "kept",
}


def test_stream_for_docker_load_carries_no_names(make_archive):
    image = make_archive(
        repo_tags=["jiebang/python:3.11"],
        extra=[
            ("repositories", b'{"jiebang/python": {"3.11": "abc"}}'),
            ("index.json", json.dumps({"manifests": [{"annotations": _NAMES}]}).encode()),
        ],
    )
    body = b"".join(tarstream.untagged(image.path, check=check_member))
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
        index = json.load(tar.extractfile("index.json"))
    assert "repositories" not in names
    assert manifest[0]["RepoTags"] == []
    assert manifest[0]["Layers"] == json.loads(_member(image, "manifest.json"))[0]["Layers"]
    assert index["manifests"][0]["annotations"] == {"other": "kept"}


@pytest.mark.docker
def test_docker_save_of_an_image_from_the_base_is_accepted_and_loads(client, images, saved_solver):
    archive = inspect_image_archive(saved_solver)
    assert archive.image_id == images["solver"]
    assert len(archive.layers) == 2  # the base's single layer, plus the COPY
    assert load_image(client, saved_solver, archive) == images["solver"]
    with pytest.raises(ArchiveError, match=r"2 layers; the limit is 1"):
        inspect_image_archive(saved_solver, max_layers=1)


@pytest.mark.docker
def test_tag_hijack_of_the_base_image_is_defused(client, base_image, make_archive):
    hostile = make_archive(
        repo_tags=[sandboxes.BASE_IMAGE],
        extra=[("repositories", json.dumps({"jiebang/python": {"3.11": "f" * 64}}).encode())],
    )
    archive = inspect_image_archive(hostile.path)
    try:
        loaded = load_image(client, hostile.path, archive)
        assert loaded == hostile.image_id
        assert sandboxes.base_image_id(client) == base_image
        assert client.images.get(loaded).tags == []
    finally:
        if sandboxes.base_image_id(client) != base_image:  # put the platform right again
            client.images.get(base_image).tag(sandboxes.BASE_IMAGE)
        _remove(client, hostile.image_id)


@pytest.mark.docker
def test_load_reporting_another_image_is_refused(client, make_archive):
    image = make_archive()
    wrong = ImageArchive(image_id="sha256:" + "0" * 64, layers=(), size=0)
    try:
        with pytest.raises(ArchiveError, match=r"different image"):
            load_image(client, image.path, wrong)
    finally:
        _remove(client, image.image_id)


def _member(image, name: str) -> bytes:
    return next(m.data for m in image.members if m.name == name)


def _remove(client, image_id: str) -> None:
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.remove(image_id, force=True)
