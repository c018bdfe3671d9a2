"""`jiebang check`: a submission run and judged as the worker would, on a check kit.

The run is the worker's (``sandboxes.run``: network none, read-only root, uid 10001, the
challenge's limits) with the kit's sample at /input; what it writes is judged by the
worker's own code: ``evaluator.outcome`` for a run that failed, the built-in scorer's
parser (``evaluator.scoring``) or ``sandboxes.check_output`` and the scoring program
(``evaluator.scorer.judge``) for its output. So a check fails with the very words the
platform would give, and passes only where the platform would score.

What differs: the sample is not the test set, and its public/private split is made here
from the sample's ids (``sample_split``), not with the challenge's secret split.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import docker.errors
import numpy as np
import pandas as pd

import sandboxes
from challenges.metrics import get_metric
from evaluator import inputs, scorer
from evaluator.ids import Ids, align
from evaluator.kit import TEST_FILE, Kit
from evaluator.models import Failure, State
from evaluator.outcome import (
    PREDICTIONS,
    Outcome,
    classify_run,
    failed_run,
    measured,
    run_failure,
)
from evaluator.scoring import PredictionError, read_labels, read_predictions

LABELS = {"jiebang.check": "1"}


@dataclass
class Checked:
    """A check's verdict: the worker's ``Outcome`` and, for a scoring program, which image
    the scorer ran on."""

    outcome: Outcome
    scorer_image: str | None = None


def run_check(
    client,
    kit: Kit,
    *,
    image_id: str,
    command: list[str] | None,
    code_dir: Path | None,
    runtime: str,
    scratch: Path,
    keep: Path | None = None,
) -> Checked:
    """Run the submission on the kit's sample and judge its output."""
    run = kit.info["resources"]["run"]
    limits = sandboxes.Limits(
        cpus=float(run["cpus"]),
        memory_mb=int(run["memory_mb"]),
        time_limit_s=float(run["time_limit_s"]),
        runtime=runtime,
    )
    with sandboxes.run(
        client,
        image_id=image_id,
        input_dir=kit.sample,
        limits=limits,
        scratch_dir=scratch,
        command=command,
        code_dir=code_dir,
        labels=LABELS,
    ) as result:
        if keep is not None:
            keep_tree(result.output_dir, keep / "output")
            (keep / "run-log.txt").write_text(result.log, "utf-8")
        if kit.info["scoring_program"]:
            return _program(client, kit, result, limits, scratch, keep)
        return Checked(_builtin(kit, result, limits))


def _builtin(kit: Kit, result: sandboxes.RunResult, limits: sandboxes.Limits) -> Outcome:
    """predictions.csv, parsed and scored by the built-in scorer's code; without sample
    labels, parsed and its ids matched to the sample's."""
    metric = get_metric(kit.info["metric"])
    if kit.reference is not None:
        labels = read_labels(_only_file(kit.reference), metric=metric)
        ids = labels["id"].to_numpy(dtype=object)
        return classify_run(
            result,
            metric=metric,
            labels=labels,
            public=sample_split(ids, kit.info["public_fraction"]),
            limits=limits,
            max_bytes=scorer_max_bytes(),
            show_logs=True,
        )
    failure = run_failure(result, limits, show_logs=True)
    if failure is not None:
        return failure
    path = result.output_dir / PREDICTIONS
    try:
        found = read_predictions(path, metric=metric, classes=kit.info.get("classes"))
        ids = sample_ids(kit)
        if ids is not None:
            align(path.name, Ids.of_strings(found["id"].to_numpy(dtype=object)), ids_of(ids))
    except PredictionError as exc:
        return failed_run(result, Failure.bad_output, exc.message_code, **exc.params)
    return Outcome(State.scored, **measured(result))


def _program(client, kit, result, limits, scratch, keep) -> Checked:
    """The output checked as the worker checks it, then scored by the kit's program."""
    failure = run_failure(result, limits, show_logs=True)
    if failure is not None:
        return Checked(failure)
    try:
        sandboxes.check_output(result.output_dir)
    except sandboxes.OutputError as exc:
        return Checked(failed_run(result, Failure.bad_output, exc.code, **exc.params))
    if kit.reference is None or kit.scoring is None:
        return Checked(Outcome(State.scored, **measured(result)))
    image_id, image_words = scorer_image(client, kit.info.get("scoring_image"))
    split = scratch / "split"
    split.mkdir()
    ids = sample_ids(kit)
    public = sample_split(ids, kit.info["public_fraction"])
    for name, side in (("public.txt", public), ("private.txt", ~public)):
        (split / name).write_text("".join(f"{i}\n" for i in sorted(ids[side])), "utf-8")
    for path in (split, *split.iterdir()):
        path.chmod(0o555 if path.is_dir() else 0o444)
    scorer_limits = scorer.limits_of(kit.info["resources"]["scorer"], limits.runtime)

    def seen(scored: sandboxes.RunResult) -> None:
        if keep is not None:
            keep_tree(scored.output_dir, keep / "scores")
            (keep / "scorer-log.txt").write_text(scored.log, "utf-8")

    verdict = scorer.run_scorer(
        client,
        image_id=image_id,
        limits=scorer_limits,
        scratch=scratch,
        program=kit.scoring,
        predictions=result.output_dir,
        reference=kit.reference,
        split=split,
        names=kit.metric_names,
        labels={**LABELS},
        seen=seen,
    )
    outcome = verdict.outcome(result)
    return Checked(outcome, scorer_image=image_words)


def scorer_image(client, named: str | None) -> tuple[str, str]:
    """(image id, what it is): the kit's scorer image where this engine has it, else the
    platform's scorer image, else the base image (whose libraries may not be enough)."""
    for tag in (named, scorer.SCORER_IMAGE):
        if not tag:
            continue
        try:
            return client.images.get(tag).id, tag
        except docker.errors.ImageNotFound:
            continue
    wanted = named or scorer.SCORER_IMAGE
    return inputs.base_image(client), (
        f"{sandboxes.BASE_IMAGE} ({wanted} is not on this engine; build it with "
        "`jiebang sandbox build-scorer --docker-host URL` to score as the platform does)"
    )


def scorer_max_bytes() -> int:
    """The predictions size cap of the platform's default settings."""
    from jiebang.settings import Settings

    return Settings.model_fields["max_prediction_bytes"].default


def sample_ids(kit: Kit) -> np.ndarray | None:
    """The sample's item ids: the sample labels' ids (built-in scorer), the ``id`` column of
    a sample file, else the names of a sample folder's files without their extensions."""
    if not kit.info["scoring_program"] and kit.reference is not None:
        labels = read_labels(_only_file(kit.reference), metric=get_metric(kit.info["metric"]))
        return labels["id"].to_numpy(dtype=object)
    table = kit.sample / TEST_FILE
    if table.is_file() and len(list(kit.sample.iterdir())) == 1:
        column = pd.read_csv(
            table, usecols=["id"], dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
        return column["id"].str.strip().to_numpy(dtype=object)
    if not kit.info["scoring_program"]:
        return None  # a folder of inputs, no labels: nothing says which ids to expect
    stems = sorted({p.stem for p in kit.sample.iterdir() if p.is_file()})
    return np.asarray(stems, dtype=object)


def ids_of(values: np.ndarray) -> Ids:
    return Ids.of_strings(np.asarray([str(v) for v in values], dtype=object))


def sample_split(ids: np.ndarray, fraction: float) -> np.ndarray:
    """The sample's public rows: the ``fraction`` of ids first by their SHA-256, at least
    one on each side when there are two or more. Not the challenge's split (its secret
    stays on the server); the same for the same ids in any order."""
    n = len(ids)
    count = min(max(round(n * fraction), 1), n - 1) if n > 1 else n
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in ids]
    public = np.zeros(n, dtype=bool)
    public[np.argsort(keys, kind="stable")[:count]] = True
    return public


def _only_file(folder: Path) -> Path:
    files = [p for p in folder.iterdir() if p.is_file()]
    if len(files) != 1:
        raise ValueError(f"{folder} must hold the one sample labels file")
    return files[0]


def keep_tree(src: Path, dest: Path) -> None:
    """Copy what a run wrote (regular files and folders; links, pipes and devices left
    out, never followed) for the team to look at."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(src):
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            keep_tree(Path(entry.path), dest / entry.name)
        elif stat.S_ISREG(info.st_mode):
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as f, open(dest / entry.name, "wb") as out:
                shutil.copyfileobj(f, out)
