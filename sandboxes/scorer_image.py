"""Recipe for the scorer image ``jiebang/scoring:3.11``: the base image plus metric libraries.

Sponsors' scoring programs (``scoring.program``) run on it. Containers never
reach a network, so the wheels are downloaded on the host at setup time
(:func:`download_wheels`), unpacked here into one tar layer under
``/usr/local/lib/python3.11/dist-packages`` and added to a container of the base
image, which is committed with the base's config (USER 10001 and so on).

numpy is deliberately not in the layer: the base's Debian numpy 1.24 serves
pycocotools' C extension (built against the numpy 2 ABI, which still loads on
numpy 1.x), and a second numpy would shadow the one pandas and sklearn were
built for.
"""

from __future__ import annotations

import compileall
import contextlib
import logging
import os
import platform
import py_compile
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import docker

from sandboxes.base import BASE_IMAGE, BASE_RECIPE, PYTHON_VERSION, SANDBOX_UID
from sandboxes.recipe import RECIPE_LABEL, image_recipe, recipe_hash

logger = logging.getLogger(__name__)

SCORER_IMAGE = "jiebang/scoring:3.11"
WHEELS_ENV = "JIEBANG_WHEELS_DIR"
DEFAULT_WHEELS_DIR = Path("/var/cache/jiebang/wheels")
SITE_DIR = PurePosixPath(f"/usr/local/lib/python{PYTHON_VERSION}/dist-packages")
# Exact versions with their dependencies spelled out (downloaded with --no-deps):
# the image is the same wherever it is built, and the recipe label names it.
WHEELS = (
    "pycocotools==2.0.11",
    "sacrebleu==2.6.0",
    "portalocker==4.4.2",
    "regex==2026.12.2",
    "tabulate==0.10.0",
    "colorama==0.4.6",
    "lxml==6.2.0",
    "jiwer==4.0.0",
    "rapidfuzz==3.14.6",
    "click==8.5.1",
    "pillow==13.0.0",
)
# What the check imports and exercises as uid 10001 without a network.
CHECK_CODE = """\
import numpy, sacrebleu, jiwer, lxml.etree, PIL.Image
from pycocotools import mask
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
rle = mask.encode(numpy.asfortranarray(numpy.ones((4, 4), dtype=numpy.uint8)))
assert int(mask.area(rle)) == 16
assert sacrebleu.corpus_chrf(["a cat"], [["a cat"]]).score == 100.0
assert jiwer.wer("a b c", "a b d") > 0.3
PIL.Image.fromarray(numpy.zeros((2, 2), numpy.uint8)).save(__import__("io").BytesIO(), "PNG")
print("ok", numpy.__version__)
"""
CHECK_TIMEOUT_S = 120


class ScorerImageError(RuntimeError):
    """The scorer image could not be built; the message says why."""


def wheels_dir(path: Path | str | None = None) -> Path:
    """The wheel cache: ``path``, else $JIEBANG_WHEELS_DIR, else /var/cache/jiebang/wheels."""
    return Path(path or os.environ.get(WHEELS_ENV) or DEFAULT_WHEELS_DIR)


def platform_tags() -> list[str]:
    """pip ``--platform`` tags that Debian bookworm (glibc 2.36) runs on this machine's arch.

    The engine is local, so the host's architecture is the containers'.
    """
    arch = platform.machine()
    return [f"manylinux_2_28_{arch}", f"manylinux2014_{arch}", "any"]


def scorer_recipe(base_id: str) -> str:
    """The label of a scorer image built from ``base_id`` with this code's wheels."""
    return recipe_hash(WHEELS, str(SITE_DIR), BASE_RECIPE, base_id, platform_tags())


def download_wheels(dest: Path | None = None) -> list[Path]:
    """Download the missing pinned wheels into ``dest`` (host side, needs PyPI); return all."""
    dest = wheels_dir(dest)
    missing = [spec for spec in WHEELS if _find_wheel(dest, spec) is None]
    if missing:
        dest.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--no-deps"]
        cmd += ["--python-version", PYTHON_VERSION, "--implementation", "cp"]
        for tag in platform_tags():
            cmd += ["--platform", tag]
        cmd += ["-d", str(dest), *missing]
        logger.info("downloading %d wheels into %s", len(missing), dest)
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ScorerImageError(
                f"pip download failed ({done.returncode}):\n{done.stderr[-3000:]}"
            )
    return _wheel_files(dest)


def build_scorer_image(
    client: docker.DockerClient,
    *,
    tag: str = SCORER_IMAGE,
    base: str = BASE_IMAGE,
    wheels: Path | None = None,
    force: bool = False,
) -> str:
    """Build ``tag`` from ``base`` and the cached wheels; return the image id.

    Skips the build when ``tag`` exists with the same recipe label (the wheel
    pins and the base image's id), unless ``force``. Needs no network: run
    :func:`download_wheels` first.
    """
    base_id, _ = image_recipe(client, base)
    if base_id is None:
        raise ScorerImageError(f"No base image {base}: run `jiebang sandbox build-base` first.")
    recipe = scorer_recipe(base_id)
    existing, existing_recipe = image_recipe(client, tag)
    if existing and existing_recipe == recipe and not force:
        logger.info("scorer image %s is up to date (%s); not rebuilding", tag, existing)
        return existing
    files = _wheel_files(wheels_dir(wheels))
    with tempfile.TemporaryDirectory(prefix="jiebang-scorer-", dir="/var/tmp") as tmp:
        layer = Path(tmp) / "layer.tar"
        _write_layer(files, Path(tmp) / "site", layer)
        image_id = _commit(client, base_id, layer, recipe)
    # Tagged only once it works: a broken image under the tag, with the right
    # recipe label, would never be rebuilt.
    try:
        check_scorer_image(client, image_id)
    except BaseException:
        with contextlib.suppress(docker.errors.APIError):
            client.images.remove(image_id, force=True)
        raise
    repository, _, version = tag.rpartition(":")
    if not repository or "/" in version:
        repository, version = tag, "latest"
    client.images.get(image_id).tag(repository, version)
    logger.info("built scorer image %s (%s)", tag, image_id)
    return image_id


def check_scorer_image(client: docker.DockerClient, image: str) -> None:
    """Import and exercise every library as uid 10001 with no network, like a scorer runs."""
    container = client.containers.create(
        image,
        command=["python", "-c", CHECK_CODE],
        user=f"{SANDBOX_UID}:{SANDBOX_UID}",
        network_mode="none",
        read_only=True,
        # As in every hardened run; portalocker (under sacrebleu) needs a writable
        # temporary directory as soon as it is imported.
        tmpfs={"/tmp": "rw,nosuid,nodev,size=64m,mode=1777"},
        runtime="runc",
        working_dir="/tmp",
    )
    try:
        container.start()
        status = container.wait(timeout=CHECK_TIMEOUT_S)
        log = container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
    # "ok 1.": the numpy that answers must be the base's Debian 1.x, not a wheel's 2.x.
    if status.get("StatusCode") != 0 or not log.startswith("ok 1."):
        raise ScorerImageError(f"The scorer image {image} fails its check:\n{log[-3000:]}")


def _find_wheel(dest: Path, spec: str) -> Path | None:
    """The cached wheel of ``name==version`` for this arch (or pure Python), if any."""
    name, _, version = spec.partition("==")
    if not dest.is_dir():
        return None
    for path in sorted(dest.glob("*.whl")):
        # {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl
        fields = path.name[: -len(".whl")].split("-")
        if len(fields) < 5 or (_normalize(fields[0]), fields[1]) != (_normalize(name), version):
            continue
        tags = fields[-1]
        if tags == "any" or ("manylinux" in tags and tags.endswith(platform.machine())):
            return path
    return None


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _wheel_files(dest: Path) -> list[Path]:
    found = {spec: _find_wheel(dest, spec) for spec in WHEELS}
    missing = [spec for spec, path in found.items() if path is None]
    if missing:
        raise ScorerImageError(
            f"Wheels missing from {dest}: {', '.join(missing)}. "
            "Run `jiebang sandbox build-scorer` with network access to PyPI (it downloads them), "
            f"or point --wheels / {WHEELS_ENV} at a folder that has them."
        )
    return [path for path in found.values() if path is not None]


def _write_layer(files: list[Path], site: Path, layer: Path) -> None:
    """Unpack ``files`` into ``site``, precompile, and tar it as root-owned, read-only files."""
    for wheel in files:
        _unpack(wheel, site)
    # The root is read-only at run time: without .pyc files every scorer run would
    # compile sacrebleu and jiwer again. Hash-checked pycs do not depend on mtimes.
    if sys.version_info[:2] == tuple(int(p) for p in PYTHON_VERSION.split(".")):
        compileall.compile_dir(
            str(site),
            quiet=1,
            workers=1,
            invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
        )
    with tarfile.open(layer, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_info(str(SITE_DIR.parent).lstrip("/"), directory=True))
        tar.addfile(_info(str(SITE_DIR).lstrip("/"), directory=True))
        for path in sorted(site.rglob("*")):
            name = str(SITE_DIR / path.relative_to(site)).lstrip("/")
            if path.is_dir():
                tar.addfile(_info(name, directory=True))
            else:
                info = _info(name, size=path.stat().st_size, executable=path.suffix == ".so")
                with path.open("rb") as f:
                    tar.addfile(info, f)


def _info(
    name: str, *, directory: bool = False, size: int = 0, executable: bool = False
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory or executable else 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.size = size
    return info


def _unpack(wheel: Path, site: Path) -> None:
    """Extract ``wheel`` as pip would for purelib/platlib; its own paths stay inside ``site``."""
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            parts = PurePosixPath(member.filename).parts
            if member.is_dir() or not parts:
                continue
            if ".." in parts or parts[0].startswith("/"):
                raise ScorerImageError(f"{wheel.name} has an unsafe path {member.filename!r}")
            if parts[0].endswith(".data"):
                # scripts/, headers/ and data/ are not needed to import the library.
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue
                parts = parts[2:]
            target = site.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)


def _commit(client: docker.DockerClient, base_id: str, layer: Path, recipe: str) -> str:
    """The base plus ``layer`` as a new untagged image with the base's config; its id."""
    # Never started: the container only carries the layer into a commit, and
    # creating it without overrides keeps the base's config for the new image.
    container = client.containers.create(base_id, network_disabled=True)
    try:
        with layer.open("rb") as data:
            if not container.put_archive("/", data):
                raise ScorerImageError("docker refused the scorer layer (put_archive)")
        image = container.commit(
            message="jiebang scorer libraries",
            changes=[f"LABEL {RECIPE_LABEL}={recipe}"],
        )
    finally:
        container.remove(force=True)
    return image.id
