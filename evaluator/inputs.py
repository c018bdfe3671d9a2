"""What a run needs on the worker's disk: the image, the test inputs, the labels.

Test inputs are materialized once per dataset hash into a read-only folder that
every run of that challenge mounts at /input. Labels stay on the worker's side.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import docker.errors
import numpy as np
import pandas as pd

import sandboxes
from challenges.metrics import get_metric
from challenges.models import Challenge, FileRole
from challenges.split import public_mask
from evaluator.context import Context
from evaluator.scoring import read_labels

TEST_FILE = "test.csv"


class MissingBaseImage(RuntimeError):
    """The base image for bundles is not built on this worker's Docker engine."""


def ensure_image(client, archive_path: Path, image_id: str | None) -> str:
    """The image id of an archive, loading it only when Docker does not have it."""
    if image_id:
        try:
            client.images.get(image_id)
            return image_id
        except docker.errors.ImageNotFound:
            pass
    shared = frozenset(sandboxes.base_layers(client))
    archive = sandboxes.inspect_image_archive(archive_path, shared_layers=shared)
    return sandboxes.load_image(client, archive_path, archive)


def base_image(client) -> str:
    image_id = sandboxes.base_image_id(client)
    if image_id is None:
        raise MissingBaseImage("run `jiebang sandbox build-base` on this worker")
    return image_id


def ensure_inputs(ctx: Context, challenge: Challenge) -> Path:
    """A folder with test.csv and the extra inputs, built atomically once per dataset."""
    root = ctx.settings.data_dir / "inputs"
    final = root / challenge.dataset_hash
    if final.is_dir():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        for f in challenge.files:
            if f.role == FileRole.test_inputs.value:
                name = TEST_FILE
            elif f.role == FileRole.extra_input.value:
                name = f.name
            else:
                continue
            shutil.copyfile(ctx.blobs.path(f.sha256), tmp / name)
            os.chmod(tmp / name, 0o444)
        os.chmod(tmp, 0o555)
        try:
            os.rename(tmp, final)
        except OSError:
            # Another worker won the race; its copy is identical.
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def labels_for(ctx: Context, challenge: Challenge) -> pd.DataFrame:
    labels_file = challenge.files_with(FileRole.test_labels)[0]
    return _labels(ctx.blobs.path(labels_file.sha256), challenge.metric)


def public_rows(ctx: Context, challenge: Challenge) -> np.ndarray:
    labels = labels_for(ctx, challenge)
    return _mask(challenge.dataset_hash, challenge.split_secret, challenge.public_fraction, labels)


@lru_cache(maxsize=8)
def _labels(path: Path, metric_name: str) -> pd.DataFrame:
    return read_labels(path, metric=get_metric(metric_name))


_masks: dict[tuple, np.ndarray] = {}


def _mask(dataset: str, secret: str, fraction: float, labels: pd.DataFrame) -> np.ndarray:
    key = (dataset, secret, fraction)
    if key not in _masks:
        if len(_masks) > 8:
            _masks.clear()
        _masks[key] = public_mask(labels["id"].to_numpy(), secret, fraction)
    return _masks[key]
