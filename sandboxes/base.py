"""Recipe for the base image ``jiebang/python:3.11``, built from Debian packages.

No registry is reachable from the workers, so the image is assembled with
debootstrap from Debian's package mirror and imported with ``docker import``.
Bundles run on it, and participants may build their own images ``FROM`` it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import docker

from sandboxes.recipe import RECIPE_LABEL, image_recipe, recipe_hash

logger = logging.getLogger(__name__)

BASE_IMAGE = "jiebang/python:3.11"
PYTHON_VERSION = "3.11"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3-minimal", "python3-numpy", "python3-pandas", "python3-sklearn")
PACKAGES += ("python3-pil",)  # image tasks' participant code reads and writes pictures
SANDBOX_UID = 10001
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CHANGES = (
    f"ENV PATH={DEFAULT_PATH}",
    "WORKDIR /tmp",
    f"USER {SANDBOX_UID}",
    'CMD ["python3"]',
)
# Build-time only: python3-scipy depends on python3-pythran, which drags in a
# C++ compiler, Boost headers and -dev packages (~400 MB) that no run uses. They
# are purged with --force-depends; _check_python proves the stack still works.
BUILD_ONLY_PACKAGES = (
    "python3-pythran",
    "libboost-dev",
    "libboost1.74-dev",
    "libxsimd-dev",
    "g++",
    "g++-12",
    "gcc",
    "gcc-12",
    "cpp",
    "cpp-12",
    "libstdc++-12-dev",
    "libgcc-12-dev",
    "libc6-dev",
    "libc-dev-bin",
    "linux-libc-dev",
    "libcrypt-dev",
    "libnsl-dev",
    "libtirpc-dev",
    "rpcsvc-proto",
    "libopenblas-dev",
    "libopenblas-pthread-dev",
    "libblas-dev",
    "liblapack-dev",
    "python3-all-dev",
    "python3-dev",
    "python3.11-dev",
    "libpython3-all-dev",
    "libpython3-dev",
    "libpython3.11-dev",
    "libexpat1-dev",
    "zlib1g-dev",
    "binutils",
    "binutils-common",
    "binutils-x86-64-linux-gnu",
    "binutils-aarch64-linux-gnu",
    "libbinutils",
    "libctf0",
    "libctf-nobfd0",
    "libgprofng0",
    "libasan8",
    "libtsan2",
    "liblsan0",
    "libubsan1",
    "libhwasan0",
    "libcc1-0",
    "libisl23",
    "libmpc3",
    "libmpfr6",
)
# Importing ~500 MB can outlast docker-py's 60 s default read timeout.
IMPORT_TIMEOUT_S = 1800
CHUNK = 1024 * 1024
# Documentation, manuals, translations and apt's caches: nothing a run needs.
PRUNE = (
    "var/cache/apt",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "var/log",
)
# Bump when _customize or _check_python change what the image holds.
CUSTOMIZE_VERSION = 1
BASE_RECIPE = recipe_hash(SUITE, PACKAGES, BUILD_ONLY_PACKAGES, PRUNE, CHANGES, CUSTOMIZE_VERSION)


class BaseImageError(RuntimeError):
    """The base image could not be built; the message says why."""


def base_image_id(client: docker.DockerClient, tag: str = BASE_IMAGE) -> str | None:
    """The id of the image tagged ``tag``, or None when there is none."""
    try:
        return client.images.get(tag).id
    except docker.errors.ImageNotFound:
        return None


def build_base_image(
    client: docker.DockerClient,
    *,
    tag: str = BASE_IMAGE,
    force: bool = False,
    workdir: Path | None = None,
) -> str:
    """Build ``tag`` with debootstrap and import it; return the image id.

    Skips the build when the tag exists with this code's recipe label, unless
    ``force``. Needs root and debootstrap on the host, and Debian's mirror.
    """
    existing, recipe = image_recipe(client, tag)
    if existing and recipe == BASE_RECIPE and not force:
        logger.info("base image %s is up to date (%s); not rebuilding", tag, existing)
        return existing
    if existing and recipe != BASE_RECIPE:
        logger.info("base image %s has recipe %s, not %s: rebuilding", tag, recipe, BASE_RECIPE)
    _check_host()
    # /var/tmp, not /tmp: the root is ~1 GB before pruning and /tmp is often a small tmpfs.
    root = Path(tempfile.mkdtemp(prefix="jiebang-base-", dir=workdir or "/var/tmp"))
    try:
        _debootstrap(root)
        _customize(root)
        _check_python(root)
        image_id = _import(client, root, tag)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    logger.info("built base image %s (%s)", tag, image_id)
    return image_id


def _check_host() -> None:
    if os.geteuid() != 0:
        raise BaseImageError("Building the base image needs root (debootstrap, chroot).")
    if shutil.which("debootstrap") is None:
        raise BaseImageError("debootstrap is not installed: apt-get install debootstrap")


def _debootstrap(root: Path) -> None:
    cmd = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(root),
        MIRROR,
    ]
    logger.info("running %s", " ".join(cmd))
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log_tail = _tail(root / "debootstrap" / "debootstrap.log") or done.stderr[-4000:]
        raise BaseImageError(f"debootstrap failed ({done.returncode}):\n{log_tail}")


def _tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


def _customize(root: Path) -> None:
    """Make ``python`` work, give uid 10001 a name, and drop what runs never use."""
    python = root / "usr/bin/python"
    if not python.exists():
        python.symlink_to("python3")
    # Without passwd entries, getpass/pwd-based code in participants' programs fails.
    with (root / "etc/passwd").open("a") as f:
        f.write(f"sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:/tmp:/usr/sbin/nologin\n")
    with (root / "etc/group").open("a") as f:
        f.write(f"sandbox:x:{SANDBOX_UID}:\n")
    _purge(root, BUILD_ONLY_PACKAGES)
    for rel in PRUNE:
        _empty_dir(root / rel)
    # Docker provides /dev, /proc and /sys itself.
    _empty_dir(root / "dev")


def _purge(root: Path, packages: tuple[str, ...]) -> None:
    installed = _installed(root)
    wanted = [p for p in packages if p in installed]
    if not wanted:
        return
    done = subprocess.run(
        ["chroot", str(root), "dpkg", "--purge", "--force-depends", *wanted],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": DEFAULT_PATH, "DEBIAN_FRONTEND": "noninteractive"},
    )
    if done.returncode != 0:
        raise BaseImageError(f"dpkg --purge failed: {done.stderr[-2000:]}")
    logger.info("purged %d build-only packages", len(wanted))


def _installed(root: Path) -> set[str]:
    done = subprocess.run(
        ["chroot", str(root), "dpkg-query", "-W", "-f", "${Package}\\n"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": DEFAULT_PATH},
    )
    return set(done.stdout.split())


def _empty_dir(path: Path) -> None:
    if not path.is_dir() or path.is_symlink():
        return
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _check_python(root: Path) -> None:
    # A small fit exercises BLAS, OpenMP and the compiled extensions the purge must keep.
    code = (
        "import sys, numpy, pandas, scipy.optimize, sklearn.linear_model as lm, PIL.Image;"
        "PIL.Image.fromarray(numpy.zeros((2, 2), numpy.uint8)).convert('RGB');"
        "x = pandas.DataFrame({'a': [0.0, 1.0, 2.0, 3.0]});"
        "lm.LogisticRegression().fit(x, [0, 0, 1, 1]).predict_proba(x);"
        "print('%d.%d' % sys.version_info[:2])"
    )
    done = subprocess.run(
        ["chroot", str(root), "/usr/bin/python", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": DEFAULT_PATH, "HOME": "/tmp"},
    )
    version = done.stdout.strip()
    if done.returncode != 0 or version != PYTHON_VERSION:
        raise BaseImageError(
            f"The base root has Python {version or '?'}, expected {PYTHON_VERSION}: "
            f"{done.stderr[-2000:]}"
        )


def _import(client: docker.DockerClient, root: Path, tag: str) -> str:
    repository, _, version = tag.rpartition(":")
    if not repository or "/" in version:
        repository, version = tag, "latest"
    tar = subprocess.Popen(
        ["tar", "--numeric-owner", "-C", str(root), "-c", "."],
        stdout=subprocess.PIPE,
    )
    previous_timeout = client.api.timeout
    client.api.timeout = IMPORT_TIMEOUT_S
    try:
        assert tar.stdout is not None
        result = client.api.import_image(
            src=_chunks(tar.stdout),
            repository=repository,
            tag=version,
            changes=[*CHANGES, f"LABEL {RECIPE_LABEL}={BASE_RECIPE}"],
            stream_src=True,
        )
    finally:
        client.api.timeout = previous_timeout
        if tar.stdout is not None:
            tar.stdout.close()
        tar.wait()
    if tar.returncode != 0:
        raise BaseImageError(f"tar of the base root failed ({tar.returncode})")
    logger.debug("docker import said %s", result)
    image_id = base_image_id(client, tag)
    if image_id is None:
        raise BaseImageError(f"docker import did not create {tag}: {result}")
    return image_id


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    yield from iter(lambda: stream.read(CHUNK), b"")
