"""What the client uploads: a zip of a folder, a saved local image, a thin archive."""

from __future__ import annotations

import zipfile
from pathlib import Path

import click


def zip_folder(folder: Path, dest: Path) -> None:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder))


def save_image(tag: str, dest: Path) -> None:
    try:
        import docker
    except ImportError:
        raise click.ClickException(
            f"no file or folder named {tag!r}; to submit a local image by its tag, "
            "install the Docker SDK (pip install docker) or `docker save` it to a file"
        ) from None

    # The participant's own engine (DOCKER_HOST, or the default socket), where they built
    # the image: not Jiebang's sandbox engine, which JIEBANG_DOCKER_HOST names on workers.
    engine = docker.from_env(version="auto")
    try:
        image = engine.images.get(tag)
    except docker.errors.ImageNotFound:
        raise click.ClickException(f"no file, folder or local image named {tag!r}") from None
    with open(dest, "wb") as out:
        for chunk in image.save(named=False):
            out.write(chunk)


def prepare_upload(target: str, workdir: Path) -> tuple[Path, str]:
    """A file to upload and its kind: a zip or folder is a bundle, a tar or image tag an image."""
    path = Path(target)
    if path.is_dir():
        if not (path / "main.py").is_file():
            raise click.ClickException(f"{path} has no main.py at its top")
        bundle = workdir / "bundle.zip"
        zip_folder(path, bundle)
        return bundle, "bundle"
    if path.is_file():
        return path, "bundle" if zipfile.is_zipfile(path) else "image"
    archive = workdir / "image.tar"
    save_image(target, archive)
    return archive, "image"


def thin(client, path: Path, workdir: Path) -> Path:
    """Leave out the layers of the server's base image, which its workers hold. Needs the
    server's sandboxes package; a client installed alone uploads the archive whole."""
    try:
        from sandboxes.thin import thin_archive
    except ImportError:
        return path
    images = client.call("GET", "/api/v1/base-images", auth=False)["images"]
    shared = {layer for image in images for layer in image["layers"]}
    if not shared:
        return path
    try:
        thinned = thin_archive(path, workdir / "thin.tar", shared)
    except (KeyError, ValueError, OSError):
        return path  # not a docker save archive we can read: upload it whole
    if not thinned.layers_left_out:
        return path
    click.echo(
        f"thin upload: {thinned.before / 1e6:.1f} MB -> {thinned.after / 1e6:.2f} MB "
        f"({thinned.layers_left_out} base layers left out)",
        err=True,
    )
    return workdir / "thin.tar"
