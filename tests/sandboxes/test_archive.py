"""Image archives are vetted from the outer tar alone, before Docker sees them."""

from __future__ import annotations

import hashlib
import io
import json
import platform
import tarfile
import time

import pytest

from sandboxes import ArchiveError, inspect_image_archive


def test_valid_synthetic_archive_is_described(make_archive):
    image = make_archive(layers=2)
    archive = inspect_image_archive(image.path)
    assert archive.image_id == image.image_id
    assert len(archive.layers) == 2
    assert all(layer.startswith("sha256:") for layer in archive.layers)
    assert archive.size == image.path.stat().st_size


@pytest.mark.parametrize(("compression", "name"), [("gz", "gzip"), ("bz2", "bzip2"), ("xz", "xz")])
def test_a_compressed_archive_is_refused_with_what_to_upload(make_archive, compression, name):
    image = make_archive(f"image.tar.{compression}", compression=compression)
    with pytest.raises(ArchiveError, match=rf"compressed \({name}\).*plain tar.*docker save"):
        inspect_image_archive(image.path)


def test_junk_is_refused_from_its_first_block(tmp_path):
    # 1.9 GB of zeros went through the xz and bz2 decoders: ~110 s of CPU for a 400.
    path = tmp_path / "zeros.tar"
    with open(path, "wb") as f:
        f.truncate(1900 * 1024**2)
    started = time.monotonic()
    with pytest.raises(ArchiveError, match=r"not a Docker image archive"):
        inspect_image_archive(path)
    assert time.monotonic() - started < 5


def test_text_file_is_not_an_archive(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("print('hello')\n" * 100)
    with pytest.raises(ArchiveError, match=r"not a Docker image archive.*docker save"):
        inspect_image_archive(path)


def test_tar_without_manifest_is_refused(make_tar):
    path = make_tar("plain.tar", [("hello.txt", b"hi")])
    with pytest.raises(ArchiveError, match=r"no manifest.json"):
        inspect_image_archive(path)


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/passwd", "a\\..\\x"])
def test_escaping_names_are_refused(make_archive, name):
    image = make_archive(extra=[(name, b"x")])
    with pytest.raises(ArchiveError, match=r"unsafe file name|'\.\.'"):
        inspect_image_archive(image.path)


@pytest.mark.parametrize(
    ("kind", "linkname"),
    [
        (tarfile.SYMTYPE, "/etc/passwd"),
        (tarfile.SYMTYPE, "manifest.json"),
        (tarfile.LNKTYPE, "manifest.json"),
        (tarfile.CHRTYPE, ""),
        (tarfile.BLKTYPE, ""),
        (tarfile.FIFOTYPE, ""),
    ],
)
def test_links_devices_and_fifos_are_refused(make_archive, kind, linkname):
    image = make_archive(extra=[("odd", None, kind, linkname)])
    with pytest.raises(ArchiveError, match=r"'odd'"):
        inspect_image_archive(image.path)


def test_repeated_layer_link_written_by_docker_save_is_accepted(make_archive, tmp_path):
    # docker save stores a layer equal to an earlier one as a link to it.
    image = make_archive()
    manifest = json.loads(_member(image, "manifest.json"))
    first = manifest[0]["Layers"][0]
    config = json.loads(_member(image, manifest[0]["Config"]))
    config["rootfs"]["diff_ids"] *= 2
    raw = json.dumps(config).encode()
    digest = hashlib.sha256(raw).hexdigest()
    manifest[0].update(Config=f"{digest}.json", Layers=[first, "dup/layer.tar"])
    path = _rewrite(
        image,
        tmp_path / "dup.tar",
        {"manifest.json": json.dumps(manifest).encode(), f"{digest}.json": raw},
        extra=[("dup/layer.tar", None, tarfile.SYMTYPE, f"../{first}")],
    )
    assert inspect_image_archive(path).image_id == f"sha256:{digest}"


def test_two_images_are_refused(make_archive):
    image = make_archive(images=2)
    with pytest.raises(ArchiveError, match=r"holds 2 images.*exactly one"):
        inspect_image_archive(image.path)


def test_volumes_in_config_are_refused(make_archive):
    image = make_archive(config={"Volumes": {"/data": {}}})
    with pytest.raises(ArchiveError, match=r"VOLUME /data"):
        inspect_image_archive(image.path)


def test_image_without_command_is_refused(make_archive):
    image = make_archive(config={"Cmd": None})
    with pytest.raises(ArchiveError, match=r"no ENTRYPOINT or CMD"):
        inspect_image_archive(image.path)


def test_other_architecture_is_refused(make_archive, tmp_path):
    image = make_archive()
    manifest = json.loads(_member(image, "manifest.json"))
    config = json.loads(_member(image, manifest[0]["Config"]))
    config["architecture"] = "s390x"
    raw = json.dumps(config).encode()
    digest = hashlib.sha256(raw).hexdigest()
    manifest[0]["Config"] = f"{digest}.json"
    path = _rewrite(
        image,
        tmp_path / "s390x.tar",
        {"manifest.json": json.dumps(manifest).encode(), f"{digest}.json": raw},
    )
    with pytest.raises(ArchiveError, match=r"linux/s390x.*--platform"):
        inspect_image_archive(path)


def test_too_many_layers_are_refused(make_archive):
    image = make_archive(layers=3)
    assert len(inspect_image_archive(image.path, max_layers=3).layers) == 3
    with pytest.raises(ArchiveError, match=r"3 layers; the limit is 2"):
        inspect_image_archive(image.path, max_layers=2)


def test_edited_config_is_refused(make_archive, tmp_path):
    image = make_archive()
    name = json.loads(_member(image, "manifest.json"))[0]["Config"]
    edited = _member(image, name).replace(b'"linux"', b'"linux" ')
    path = _rewrite(image, tmp_path / "edited.tar", {name: edited})
    with pytest.raises(ArchiveError, match=r"does not match its digest"):
        inspect_image_archive(path)


def test_duplicate_member_is_refused(make_archive):
    # tar keeps the last copy on extraction: a second manifest could smuggle another image.
    image = make_archive(extra=[("manifest.json", b"[]")])
    with pytest.raises(ArchiveError, match=r"'manifest.json' twice"):
        inspect_image_archive(image.path)


def test_member_count_is_capped(make_archive):
    image = make_archive(extra=[(f"junk/{i}", b"") for i in range(20)])
    with pytest.raises(ArchiveError, match=r"more than 10 files"):
        inspect_image_archive(image.path, max_members=10)


def test_total_size_is_capped(make_archive):
    image = make_archive(extra=[("big", b"\0" * 200_000)])
    with pytest.raises(ArchiveError, match=r"limit is 1 MiB|more than 1 MiB"):
        inspect_image_archive(image.path, max_bytes=1024 * 1024 // 8)


def test_gzip_bomb_is_refused_without_unpacking_it(make_tar):
    # 64 MiB of zeros gzip to ~64 KiB; nothing is inflated.
    path = make_tar("bomb.tar.gz", [("zeros", b"\0" * (64 * 1024**2))], compression="gz")
    with pytest.raises(ArchiveError, match=r"compressed \(gzip\)"):
        inspect_image_archive(path, max_bytes=8 * 1024**2)


def test_oci_layout_archive_is_accepted(make_tar):
    # Docker 25+ saves an OCI layout: blobs named by digest, plus index.json.
    layer = _tiny_layer()
    layer_hex = hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {
            "architecture": _arch(),
            "os": "linux",
            "config": {"Cmd": ["/x"]},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_hex}"]},
        }
    ).encode()
    config_hex = hashlib.sha256(config).hexdigest()
    manifest = [
        {
            "Config": f"blobs/sha256/{config_hex}",
            "RepoTags": ["x:1"],
            "Layers": [f"blobs/sha256/{layer_hex}"],
        }
    ]
    path = make_tar(
        "oci.tar",
        [
            ("blobs/", None, tarfile.DIRTYPE),
            ("blobs/sha256/", None, tarfile.DIRTYPE),
            (f"blobs/sha256/{layer_hex}", layer),
            (f"blobs/sha256/{config_hex}", config),
            ("index.json", json.dumps({"manifests": [{"annotations": _NAMES}]}).encode()),
            ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
            ("manifest.json", json.dumps(manifest).encode()),
        ],
    )
    assert inspect_image_archive(path).image_id == f"sha256:{config_hex}"


def _member(image, name: str) -> bytes:
    return next(m.data for m in image.members if m.name == name)


def _rewrite(image, path, replace: dict[str, bytes], extra: list[tuple] = ()):
    with tarfile.open(path, "w") as tar:
        for member in image.members:
            data = replace.get(member.name, member.data)
            _add(tar, member.name, data, member.type, member.linkname)
        for name, data in replace.items():
            if all(m.name != name for m in image.members):
                _add(tar, name, data, tarfile.REGTYPE, "")
        for entry in extra:
            _add(tar, *entry)
    return path


def _add(tar, name, data, kind, linkname):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    info.size = len(data or b"") if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data or b"") if kind == tarfile.REGTYPE else None)


_NAMES = {
    "io.containerd.image.name": "docker.io/jiebang/python:3.11",
    "org.opencontainers.image.ref.name": "3.11",
    "other": "kept",
}


def _tiny_layer() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.addfile(tarfile.TarInfo("empty"), io.BytesIO(b""))
    return buf.getvalue()


def _arch() -> str:
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
