"""The malicious-submission suite (SANDBOX.md), part 2: hostile uploads and image configs.

Archives and bundles that must be refused at upload are refused by the real intake with
a message that says what is wrong, leave no row, no blob and no image, and take no time.
A real ``docker build`` image with a hostile config, and a tiny archive that tries to
take over the base image's tag, are run through intake and ``run_evaluation``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import struct
import tarfile
import textwrap
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

import sandboxes
from evaluator.models import Submission
from jiebang.errors import Invalid

pytestmark = [pytest.mark.docker, pytest.mark.slow]

RUNTIMES = ("runc", "runsc")
GRACE_S, CANARY = 6, "JBCANARY"
# docker load of a ~400 MB archive whose base layers are already present.
LOAD_S = 30
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
GIB = 1024**3


# --- archives ----------------------------------------------------------------------------


def _member(name: str, data: bytes | None = b"", kind: bytes = tarfile.REGTYPE, link: str = ""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


def _tar(members) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def _image(
    nonce: str, *, layers=1, images=1, repo_tags=None, config=None, extra=(), files=None
) -> bytes:
    """A loadable `docker save` archive of tiny images (a text file, a non-executable CMD)."""
    members, manifest = [], []
    for image in range(images):
        paths, diff_ids = [], []
        for index in range(layers):
            content = {"hello.txt": f"{nonce} {image} {index}".encode(), **(files or {})}
            layer = _tar([_member(name, data) for name, data in content.items()])
            digest = hashlib.sha256(layer).hexdigest()
            members += [_member(f"{digest}/", None, tarfile.DIRTYPE)]
            members += [_member(f"{digest}/layer.tar", layer)]
            paths.append(f"{digest}/layer.tar")
            diff_ids.append(f"sha256:{digest}")
        body = {
            "architecture": ARCH,
            "os": "linux",
            "config": {"Cmd": ["/hello.txt"], "Labels": {"jiebang.test.nonce": nonce}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
        body["config"].update(config or {})
        raw = json.dumps(body).encode()
        digest = hashlib.sha256(raw).hexdigest()
        members.append(_member(f"{digest}.json", raw))
        manifest.append({"Config": f"{digest}.json", "RepoTags": repo_tags, "Layers": paths})
    members.append(_member("manifest.json", json.dumps(manifest).encode()))
    return _tar(members + [_member(*e) for e in extra])


def _gzip_bomb() -> bytes:
    """A gzip'd tar of 3 MB that inflates to 3 GiB (gzip members of zeros, concatenated)."""
    header = tarfile.TarInfo("a" * 64 + "/layer.tar")
    header.size = 3 * GIB
    zeros = gzip.compress(b"\0" * (64 * 1024**2), compresslevel=9)
    return gzip.compress(header.tobuf()) + zeros * (3 * GIB // (64 * 1024**2))


def _hostile_archive(name: str, nonce: str) -> bytes:
    kinds = {
        "dotdot": lambda: _image(nonce, extra=[("../evil", b"x")]),
        "absolute": lambda: _image(nonce, extra=[("/etc/evil", b"x")]),
        "symlink": lambda: _image(nonce, extra=[("evil", None, tarfile.SYMTYPE, "/etc/passwd")]),
        "hardlink": lambda: _image(nonce, extra=[("evil", None, tarfile.LNKTYPE, "manifest.json")]),
        "device": lambda: _image(nonce, extra=[("evil", None, tarfile.CHRTYPE)]),
        "fifo": lambda: _image(nonce, extra=[("evil", None, tarfile.FIFOTYPE)]),
        "gzip_bomb": _gzip_bomb,
        "hundreds_of_layers": lambda: _image(nonce, layers=200),
        "two_images": lambda: _image(nonce, images=2),
        "volume": lambda: _image(nonce, config={"Volumes": {"/data": {}}}),
        "not_a_tar": lambda: b"MZ" + bytes(range(256)) * 64,
    }
    return kinds[name]()


REFUSED_ARCHIVES = {
    "dotdot": "'..'",
    "absolute": "unsafe file name",
    "symlink": "links are refused",
    "hardlink": "not a regular file or directory",
    "device": "not a regular file or directory",
    "fifo": "not a regular file or directory",
    "gzip_bomb": "compressed (gzip)",
    "hundreds_of_layers": "200 layers; the limit is 127",
    "two_images": "holds 2 images",
    "volume": "VOLUME /data",
    "not_a_tar": "not a Docker image archive",
}


# --- bundles -----------------------------------------------------------------------------

MAIN = b"print('hi')\n"


def _zip(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, target)
    return out.getvalue()


LOCAL = struct.Struct("<IHHHHHIIIHH")  # local file header (APPNOTE 4.3.7)
CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # central directory header (4.3.12)
ZIP64_END = struct.Struct("<IQHHIIQQQQ")
ZIP64_LOCATOR = struct.Struct("<IIQI")
END = struct.Struct("<IHHHHIIH")


def _million_files() -> bytes:
    """A zip of a million empty files (86 MB), written directly: zipfile would take minutes."""
    local, central, offset = [], [], 0
    for name in [b"main.py"] + [b"%x" % i for i in range(999_999)]:
        data = MAIN if name == b"main.py" else b""
        sizes = (zlib.crc32(data), len(data), len(data), len(name))
        local.append(LOCAL.pack(0x04034B50, 20, 0, 0, 0, 0, *sizes, 0) + name + data)
        mode = 0o100644 << 16
        fields = (0x02014B50, 0x31E, 20, 0, 0, 0, 0, *sizes, 0, 0, 0, 0, mode, offset)
        central.append(CENTRAL.pack(*fields) + name)
        offset += len(local[-1])
    directory, count = b"".join(central), len(central)
    zip64 = ZIP64_END.pack(0x06064B50, 44, 45, 45, 0, 0, count, count, len(directory), offset)
    locator = ZIP64_LOCATOR.pack(0x07064B50, 0, offset + len(directory), 1)
    end = END.pack(0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 2**32 - 1, 2**32 - 1, 0)
    return b"".join(local) + directory + zip64 + locator + end


def _lying_size() -> bytes:
    """A zip whose headers say data.bin is 1000 bytes; it inflates to 200 MiB."""
    data = bytearray(_zip({"main.py": MAIN, "data.bin": bytes(200 * 1024**2)}))
    for signature, name_at, size_at, header in ((b"PK\3\4", 26, 22, 30), (b"PK\1\2", 28, 24, 46)):
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + name_at)[0]
            if data[at + header : at + header + length] == b"data.bin":
                struct.pack_into("<I", data, at + size_at, 1000)
            at = data.find(signature, at + 4)
    return bytes(data)


REFUSED_BUNDLES = {
    "zip_slip": (lambda: _zip({"main.py": MAIN, "../../evil.py": b"x"}), "unsafe file name"),
    "absolute": (lambda: _zip({"main.py": MAIN, "/etc/cron.d/x": b"x"}), "unsafe file name"),
    "symlink": (
        lambda: _zip({"main.py": MAIN}, links={"labels.csv": "/data/labels.csv"}),
        "is a symbolic link",
    ),
    "ratio_bomb": (lambda: _zip({"main.py": MAIN, "z.csv": bytes(50 * 1024**2)}), "zip bomb"),
    "lying_size": (_lying_size, "damaged"),
    "million_files": (_million_files, "the limit is 10000 files"),
}


# --- tests -------------------------------------------------------------------------------


def _refused(hostile, key: str, upload: bytes, kind: str, nonce="") -> tuple[str, float]:
    """Submit ``upload``; it must be refused leaving no row, blob or image. (message, seconds)"""
    with hostile.sessions() as session:
        rows = session.scalar(select(func.count(Submission.id)))
    started = time.monotonic()
    with pytest.raises(Invalid) as refused:
        hostile.submit(key, upload, kind)
    elapsed = time.monotonic() - started
    with hostile.sessions() as session:
        assert session.scalar(select(func.count(Submission.id))) == rows
    digest = hashlib.sha256(upload).hexdigest()
    assert not hostile.ctx.blobs.exists(digest)
    if nonce:
        assert hostile.client.images.list(filters={"label": f"jiebang.test.nonce={nonce}"}) == []
    return refused.value.message, elapsed


@pytest.fixture(scope="module")
def uploads(hostile):
    for runtime in RUNTIMES:
        for kind in ("tight", "roomy", "image"):
            hostile.challenge(kind, runtime)
    return hostile


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("name", sorted(REFUSED_ARCHIVES))
def test_hostile_archives_are_refused_at_upload(uploads, name, runtime):
    nonce = f"{uploads.nonce}-{name}"
    message, elapsed = _refused(
        uploads, f"tight-{runtime}", _hostile_archive(name, nonce), "image", nonce
    )
    assert REFUSED_ARCHIVES[name] in message
    # ... and what to do about it.
    assert any(h in message for h in ("docker save", "Dockerfile", "build steps", "save it again"))
    assert elapsed < 5


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("name", sorted(REFUSED_BUNDLES))
def test_hostile_bundles_are_refused_at_upload(uploads, name, runtime):
    build, words = REFUSED_BUNDLES[name]
    message, elapsed = _refused(uploads, f"tight-{runtime}", build(), "bundle")
    assert words in message
    assert elapsed < 5  # a million files are refused without reading a million entries


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_bundle_that_fails_only_when_unpacked_is_rejected_not_retried(uploads, runtime):
    # Distinct bytes per runtime: the blob store would otherwise hand back the blob the
    # other variant damaged below.
    sub_id = uploads.submit(f"roomy-{runtime}", uploads.bundle("well", runtime=runtime))
    with uploads.sessions() as session:
        blob = uploads.ctx.blobs.path(session.get(Submission, sub_id).blob_sha256)
    blob.chmod(0o644)
    blob.write_bytes(_lying_size())  # as if the blob changed after intake
    before = uploads.host_state()
    seen = uploads.evaluate(sub_id)
    assert (seen.status, seen.failure) == ("rejected", "bad_output")
    assert "damaged" in seen.message
    uploads.assert_restored(before)


@pytest.fixture(scope="module")
def hostile_image(uploads, tmp_path_factory) -> tuple[Path, str]:
    """A real image with a hostile config, saved, then removed so evaluation must load it."""
    context = tmp_path_factory.mktemp("hostile-image")
    (context / "main.py").write_text(Path(__file__).with_name("hostile_main.py").read_text())
    (context / "Dockerfile").write_text(
        textwrap.dedent(f"""\
            FROM {sandboxes.BASE_IMAGE}
            LABEL jiebang.test.nonce={uploads.nonce}
            COPY main.py /app/main.py
            USER root
            WORKDIR /proc/self/fd/3
            ENV IMAGE_OWN_SETTING=1
            HEALTHCHECK --interval=1s CMD ["python", "-c", "open('/output/health', 'w')"]
            STOPSIGNAL SIGUSR1
            ENTRYPOINT ["python", "/app/main.py", "image_config"]
            """)
    )
    tag = f"jiebang-test-{uploads.nonce}:hostile"
    image, _ = uploads.client.images.build(path=str(context), tag=tag, rm=True, forcerm=True)
    archive = context / "image.tar"
    with archive.open("wb") as out:
        for chunk in image.save(named=True):
            out.write(chunk)
    uploads.client.images.remove(image.id, force=True)
    return archive, image.id


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_hostile_image_config_is_overridden(uploads, hostile_image, runtime):
    archive, image_id = hostile_image
    if image_id in {i.id for i in uploads.client.images.list(all=True)}:
        uploads.client.images.remove(image_id, force=True)  # load it through the real path
    before = uploads.host_state()
    key = f"image-{runtime}"
    sub_id = uploads.submit(key, archive, "image")
    seen = uploads.evaluate(sub_id)
    # It writes its predictions, then ignores SIGTERM (and its STOPSIGNAL) to the end.
    assert (seen.status, seen.failure) == ("failed", "timeout"), seen.log
    assert seen.elapsed < uploads.time_limit(key) + GRACE_S + LOAD_S
    facts = seen.report
    assert (facts["uid"], facts["gid"], facts["cwd"]) == (10001, 10001, "/tmp")  # not root
    assert facts["health"] is False  # its HEALTHCHECK never ran
    assert facts["volume"] is False and facts["volume_write"] != "ok"
    # The image's own ENV lines (and its base's) do reach its own container: Docker
    # cannot unset them. Nothing of the worker's environment does.
    base_env = uploads.client.api.inspect_image(sandboxes.BASE_IMAGE)["Config"]["Env"] or []
    own = {item.split("=", 1)[0] for item in base_env} | {"IMAGE_OWN_SETTING"}
    contract = {"HOME", "HOSTNAME", "JIEBANG_INPUT", "JIEBANG_OUTPUT", "PATH"}
    assert facts["env"] == sorted(contract | own)
    assert CANARY not in seen.visible and seen.containers_left == []
    uploads.assert_restored(before, loaded={image_id})


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_an_archive_cannot_take_the_base_image_tag(uploads, runtime):
    base = uploads.client.images.get(sandboxes.BASE_IMAGE).id
    nonce = f"{uploads.nonce}-{runtime}"
    # The tag in manifest.json, and the legacy name map Docker reads when there is none.
    names = json.dumps({"jiebang/python": {"3.11": "0" * 64}}).encode()
    upload = _image(nonce, repo_tags=[sandboxes.BASE_IMAGE], extra=[("repositories", names)])
    before = uploads.host_state()
    sub_id = uploads.submit(f"tight-{runtime}", upload, "image")
    seen = uploads.evaluate(sub_id)
    assert uploads.client.images.get(sandboxes.BASE_IMAGE).id == base
    loaded = uploads.client.images.list(filters={"label": f"jiebang.test.nonce={nonce}"})
    assert [i.tags for i in loaded] == [[]]
    # Its CMD is a text file: a failure of the submission, not a platform error to retry.
    assert (seen.status, seen.failure, seen.exit_code) == ("failed", "crash", 126)
    assert "not an executable file" in seen.message
    assert "exec /hello.txt failed" in seen.log
    assert seen.elapsed < uploads.time_limit(f"tight-{runtime}") + GRACE_S
    assert CANARY not in seen.visible and seen.containers_left == []
    uploads.assert_restored(before, loaded={loaded[0].id})


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_an_image_with_input_as_a_file_cannot_start(uploads, runtime):
    nonce = f"{uploads.nonce}-input-{runtime}"
    upload = _image(nonce, files={"input": b"not a directory"})
    before = uploads.host_state()
    sub_id = uploads.submit(f"tight-{runtime}", upload, "image")
    seen = uploads.evaluate(sub_id)
    loaded = {
        i.id for i in uploads.client.images.list(filters={"label": f"jiebang.test.nonce={nonce}"})
    }
    if runtime == "runc":
        assert (seen.status, seen.failure) == ("failed", "crash")
        assert "Docker could not start the container" in seen.message
        assert "/input" in seen.message and str(uploads.settings.data_dir) not in seen.visible
    else:
        # gVisor reports this as a server error, like a platform failure: it is retried,
        # then failed as "infrastructure" (never counted against the quota). Documented.
        for _ in range(2):
            assert seen.status == "queued"
            seen = uploads.evaluate(sub_id)
        assert (seen.status, seen.failure) == ("failed", "infrastructure")
    assert seen.elapsed < uploads.time_limit(f"tight-{runtime}") + GRACE_S
    assert seen.containers_left == []
    uploads.assert_restored(before, loaded=loaded)
