"""Fixtures for the sandbox tests: Docker, the base image, tiny test images, upload factories.

Every image and container a session makes carries that session's nonce, so
sessions running side by side never share, reap or delete each other's things.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import platform
import secrets
import tarfile
import textwrap
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

import sandboxes

RUNTIMES = ("runc", "runsc")
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())

SOLVER = """\
import csv, os
src = os.path.join(os.environ["JIEBANG_INPUT"], "test.csv")
dst = os.path.join(os.environ["JIEBANG_OUTPUT"], "predictions.csv")
with open(src) as f, open(dst, "w") as out:
    out.write("id,prediction\\n")
    for row in csv.DictReader(f):
        out.write(f"{row['id']},{int(row['x']) * 2}\\n")
print("solved")
"""

RECIPES = {
    "solver": """\
        FROM {base}
        LABEL jiebang.test.nonce={nonce}
        COPY solve.py /app/solve.py
        CMD ["python", "/app/solve.py"]
        """,
    # Everything in the image config a hostile participant controls.
    "hostile": """\
        FROM {base}
        LABEL jiebang.test.nonce={nonce}
        USER root
        WORKDIR /root
        VOLUME /data
        HEALTHCHECK --interval=1s CMD ["python", "-c", "open('/output/health', 'w')"]
        STOPSIGNAL SIGUSR1
        ENTRYPOINT ["python", "-c", "import os; print(os.getuid(), os.getcwd()); \
open('/data/x', 'w').write('x'); print('data writable')"]
        """,
}


@pytest.fixture(scope="session")
def client(docker_host: str) -> Iterator[docker.DockerClient]:
    docker_client = sandboxes.connect(docker_host)
    yield docker_client
    docker_client.close()


@pytest.fixture(scope="session")
def base_image(client: docker.DockerClient) -> str:
    """The base image's id, built first if this machine has none (about two minutes)."""
    return sandboxes.base_image_id(client) or sandboxes.build_base_image(client)


@pytest.fixture(scope="session", params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs under runc and under gVisor."""
    return request.param


@pytest.fixture(scope="session")
def nonce() -> str:
    return secrets.token_hex(6)


@pytest.fixture(scope="session")
def images(
    client: docker.DockerClient, base_image: str, nonce: str, tmp_path_factory
) -> Iterator[dict[str, str]]:
    """Tiny images FROM the base, by recipe name: their ids. Removed after the session."""
    tags = {name: f"jiebang-test-{nonce}:{name}" for name in RECIPES}
    built: dict[str, str] = {}
    try:
        for name, recipe in RECIPES.items():
            ctx = tmp_path_factory.mktemp(f"ctx-{name}")
            dockerfile = recipe.format(base=sandboxes.BASE_IMAGE, nonce=nonce)
            (ctx / "Dockerfile").write_text(textwrap.dedent(dockerfile))
            (ctx / "solve.py").write_text(SOLVER)
            image, _ = client.images.build(path=str(ctx), tag=tags[name], rm=True, forcerm=True)
            built[name] = image.id
        yield built
    finally:
        for tag in tags.values():
            remove_image(client, tag)


@pytest.fixture(scope="session")
def saved_solver(client: docker.DockerClient, images: dict[str, str], tmp_path_factory) -> Path:
    """``docker save`` of the solver image; it carries the base layer, so ~10 s."""
    path = tmp_path_factory.mktemp("saved") / "solver.tar"
    with path.open("wb") as out:
        for chunk in client.images.get(images["solver"]).save(named=True):
            out.write(chunk)
    return path


@pytest.fixture
def input_dir(tmp_path: Path) -> Path:
    path = tmp_path / "input"
    path.mkdir(mode=0o755)
    (path / "test.csv").write_text("id,x\n1,10\n2,20\n3,30\n")
    return path


@pytest.fixture
def scratch_dir(tmp_path: Path) -> Path:
    return tmp_path / "scratch"


def remove_image(client: docker.DockerClient, ref: str) -> None:
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.remove(ref, force=True)


# --- synthetic uploads -------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One tar member to write: a file (data), a directory, or a link/device (type)."""

    name: str
    data: bytes | None = b""
    type: bytes = tarfile.REGTYPE
    linkname: str = ""


def write_tar(path: Path, members: list[Member], *, compression: str = "") -> Path:
    with tarfile.open(path, f"w:{compression}", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.type = member.type
            info.linkname = member.linkname
            info.mode = 0o755 if member.type == tarfile.DIRTYPE else 0o644
            if member.type == tarfile.REGTYPE:
                info.size = len(member.data or b"")
                tar.addfile(info, io.BytesIO(member.data or b""))
            else:
                tar.addfile(info)
    return path


@dataclass(frozen=True)
class SyntheticImage:
    path: Path
    image_id: str
    members: list[Member]


def image_members(
    *,
    nonce: str,
    layers: int = 1,
    images: int = 1,
    repo_tags: list[str] | None = None,
    config: dict[str, Any] | None = None,
) -> tuple[list[Member], str]:
    """Members of a loadable legacy ``docker save`` archive, and its image id."""
    members: list[Member] = []
    manifest = []
    first_id = ""
    for image in range(images):
        paths, diff_ids = [], []
        for index in range(layers):
            layer = _layer_tar(f"{nonce}-{image}-{index}")
            digest = hashlib.sha256(layer).hexdigest()
            members += [
                Member(f"{digest}/", None, tarfile.DIRTYPE),
                Member(f"{digest}/layer.tar", layer),
            ]
            paths.append(f"{digest}/layer.tar")
            diff_ids.append(f"sha256:{digest}")
        body = {
            "architecture": ARCH,
            "os": "linux",
            "config": {"Cmd": ["/hello.txt"], "Labels": {"nonce": f"{nonce}-{image}"}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
        body["config"].update(config or {})
        raw = json.dumps(body).encode()
        config_digest = hashlib.sha256(raw).hexdigest()
        members.append(Member(f"{config_digest}.json", raw))
        manifest.append({"Config": f"{config_digest}.json", "RepoTags": repo_tags, "Layers": paths})
        first_id = first_id or f"sha256:{config_digest}"
    members.append(Member("manifest.json", json.dumps(manifest).encode()))
    return members, first_id


def _layer_tar(text: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def make_archive(tmp_path: Path, nonce: str) -> Callable[..., SyntheticImage]:
    """``make_archive(name, extra=[Member...], compression="gz", **image_members kwargs)``."""

    def make(
        name: str = "image.tar",
        *,
        extra: list[tuple] | None = None,
        compression: str = "",
        **kwargs: Any,
    ) -> SyntheticImage:
        kwargs.setdefault("nonce", f"{nonce}-{secrets.token_hex(4)}")
        members, image_id = image_members(**kwargs)
        members += [Member(*entry) for entry in extra or []]
        path = write_tar(tmp_path / name, members, compression=compression)
        return SyntheticImage(path=path, image_id=image_id, members=members)

    return make


@pytest.fixture
def make_tar(tmp_path: Path) -> Callable[..., Path]:
    """``make_tar("x.tar", [("f", b"data"), ("d/", None, DIRTYPE), ("l", None, SYMTYPE, "t")])``."""

    def make(name: str, entries: list[tuple], *, compression: str = "") -> Path:
        return write_tar(tmp_path / name, [Member(*e) for e in entries], compression=compression)

    return make


@pytest.fixture
def make_zip(tmp_path: Path) -> Callable[..., Path]:
    """``make_zip({"main.py": b"..."}, links={"x": "/etc/passwd"})`` -> path of the zip."""

    def make(
        files: dict[str, bytes],
        *,
        links: dict[str, str] | None = None,
        name: str = "bundle.zip",
    ) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for filename, data in files.items():
                archive.writestr(filename, data)
            for filename, target in (links or {}).items():
                info = zipfile.ZipInfo(filename)
                info.external_attr = (0o120777 << 16) | 0
                archive.writestr(info, target)
        return path

    return make
