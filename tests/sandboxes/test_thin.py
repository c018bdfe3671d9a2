"""Thin archives: the base image's layers left out, accepted only for those layers."""

import pytest

import sandboxes
from sandboxes.archive import ArchiveError, inspect_image_archive, load_image

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def saved(tmp_path_factory, docker_host):
    """An image FROM the base image with one layer of its own, saved whole."""
    client = sandboxes.connect(docker_host)
    context = tmp_path_factory.mktemp("thin-build")
    (context / "Dockerfile").write_text(
        f'FROM {sandboxes.BASE_IMAGE}\nCOPY main.py /app/main.py\nCMD ["python", "/app/main.py"]\n'
    )
    (context / "main.py").write_text("print('thin')\n")
    image, _ = client.images.build(path=str(context), rm=True, network_mode="none")
    path = context / "full.tar"
    with open(path, "wb") as out:
        for chunk in image.save(named=False):
            out.write(chunk)
    yield client, image, path
    client.images.remove(image.id, force=True)


def test_a_thin_archive_is_tiny_and_loads(saved, tmp_path):
    client, image, full = saved
    shared = frozenset(sandboxes.base_layers(client))
    assert shared
    thinned = sandboxes.thin_archive(full, tmp_path / "thin.tar", shared)
    assert thinned.layers_left_out == len(shared)
    assert thinned.after < thinned.before / 100
    with pytest.raises(ArchiveError, match="missing"):
        inspect_image_archive(tmp_path / "thin.tar")
    archive = inspect_image_archive(tmp_path / "thin.tar", shared_layers=shared)
    assert archive.image_id == image.id
    client.images.remove(image.id, force=True)
    assert load_image(client, tmp_path / "thin.tar", archive) == image.id
    assert set(sandboxes.base_layers(client)) == shared  # the base image is untouched


def test_only_base_layers_may_be_left_out(saved, tmp_path):
    client, image, full = saved
    own = set(image.attrs["RootFS"]["Layers"]) - set(sandboxes.base_layers(client))
    sandboxes.thin_archive(full, tmp_path / "own.tar", own)
    shared = frozenset(sandboxes.base_layers(client))
    with pytest.raises(ArchiveError, match="missing"):
        inspect_image_archive(tmp_path / "own.tar", shared_layers=shared)
