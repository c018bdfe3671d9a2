"""What a run needs on the worker's disk: the image, the test inputs, the labels.

Test inputs are materialized once per dataset hash into a read-only folder that
every run of that challenge mounts at /input. Labels stay on the worker's side: the
built-in scorer reads them in this process; a scoring program gets them at /reference
in its own container, with the split at /split and itself at /scoring.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker.errors
import numpy as np
import pandas as pd

import sandboxes
from challenges import folders
from challenges.metrics import get_metric
from challenges.models import Challenge, ChallengeFile, FileRole
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
    """/input: the test inputs (a file as test.csv, a folder's contents as they are) and the
    extra inputs, prepared once per dataset and shared read-only by every run."""

    def fill(tmp: Path) -> None:
        for f in challenge.files:
            if f.role == FileRole.test_inputs.value:
                _place(ctx, f, tmp, TEST_FILE, spread=True)
            elif f.role == FileRole.extra_input.value:
                _place(ctx, f, tmp, f.name.rstrip("/"))

    return _prepared(ctx, "inputs", challenge.dataset_hash, fill)


def ensure_reference(ctx: Context, challenge: Challenge) -> Path:
    """/reference, for the scorer only: the test labels (a folder's contents, or the one
    file under its own name). Never mounted into a participant's container."""
    labels = challenge.file_with(FileRole.test_labels)
    return _prepared(
        ctx,
        "reference",
        challenge.dataset_hash,
        lambda tmp: _place(ctx, labels, tmp, labels.name.rstrip("/"), spread=True),
    )


def ensure_program(ctx: Context, challenge: Challenge) -> Path:
    """/scoring: the sponsor's scoring program."""
    program = challenge.file_with(FileRole.scoring_program)
    return _prepared(
        ctx, "scoring", program.sha256, lambda tmp: _place(ctx, program, tmp, "", spread=True)
    )


def ensure_split(ctx: Context, challenge: Challenge) -> Path:
    """/split: public.txt and private.txt, the item ids of each side, one a line, sorted."""

    def fill(tmp: Path) -> None:
        ids = item_ids(ctx, challenge)
        public = public_mask(ids, challenge.split_secret, challenge.public_fraction)
        for name, side in (("public.txt", public), ("private.txt", ~public)):
            lines = sorted(ids[side].tolist())
            (tmp / name).write_text("".join(f"{i}\n" for i in lines), "utf-8")

    # The secret decides the split: two challenges of the same data (one dataset hash)
    # split differently. Hashed, so the folder's name does not show it.
    key = hashlib.sha256(f"{challenge.dataset_hash}:{challenge.split_secret}".encode()).hexdigest()
    return _prepared(ctx, "split", key, fill)


def item_ids(ctx: Context, challenge: Challenge) -> np.ndarray:
    """The test item ids of a scoring program's challenge: ``data.items``, or the ``id``
    column of a CSV test input (checked when the bundle was opened)."""
    source = challenge.file_with(FileRole.items) or challenge.file_with(FileRole.test_inputs)
    column = pd.read_csv(
        ctx.blobs.path(source.sha256),
        usecols=["id"],
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
    )
    return column["id"].str.strip().to_numpy(dtype=object)


def _place(ctx: Context, f: ChallengeFile, dest: Path, name: str, *, spread: bool = False) -> None:
    """Put a challenge file into ``dest``: a folder unpacked (its contents straight into
    ``dest`` when ``spread``, else into ``dest/name``), a file copied to ``dest/name``."""
    blob = ctx.blobs.path(f.sha256)
    if f.is_folder:
        folders.unpack(blob, dest if spread else dest / name)
    else:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)  # extra/info.csv
        shutil.copyfile(blob, dest / name)


def _prepared(ctx: Context, kind: str, key: str, fill: Callable[[Path], None]) -> Path:
    """``data_dir/kind/key``, made once by ``fill`` into a temporary folder and renamed into
    place, so a run never sees half a folder and racing workers each end with one copy.
    Large data is unpacked here once per worker disk, at disk speed, and every run of the
    challenge mounts it read-only: nothing is copied per run."""
    root = ctx.settings.data_dir / kind
    final = root / key
    if final.is_dir():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        fill(tmp)
        folders.read_only(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            # Another worker won the race; its copy is identical.
            _remove(tmp)
    except BaseException:
        _remove(tmp)
        raise
    return final


def _remove(path: Path) -> None:
    for folder, dirs, _files in os.walk(path):
        for name in dirs:
            os.chmod(Path(folder, name), 0o755)  # read-only folders cannot be emptied
    os.chmod(path, 0o755)
    shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Truth:
    """The built-in scorer's hidden side of one dataset: the labels (with their packed ids,
    ``evaluator.ids.remember``) and which rows are public. Read once per worker and dataset
    and kept: the one cache of labels."""

    labels: pd.DataFrame
    public: np.ndarray


_truths: OrderedDict[tuple, Truth] = OrderedDict()
_TRUTHS_KEPT = 8
_truths_lock = threading.Lock()


def truth(ctx: Context, challenge: Challenge) -> Truth:
    key = (challenge.dataset_hash, challenge.split_secret, challenge.metric)
    with _truths_lock:
        if key in _truths:
            _truths.move_to_end(key)
            return _truths[key]
    labels_file = challenge.file_with(FileRole.test_labels)
    labels = read_labels(ctx.blobs.path(labels_file.sha256), metric=get_metric(challenge.metric))
    found = Truth(
        labels,
        public_mask(labels["id"].to_numpy(), challenge.split_secret, challenge.public_fraction),
    )
    with _truths_lock:
        _truths[key] = found
        while len(_truths) > _TRUTHS_KEPT:
            _truths.popitem(last=False)
    return found
