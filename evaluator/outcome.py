"""From a finished container run to a verdict: failure kind or scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import sandboxes
from challenges.metrics import Metric
from evaluator.models import Failure, State
from evaluator.scoring import PredictionError, score_predictions

PREDICTIONS = "predictions.csv"
# Exit codes of the container's init when it cannot run the command at all.
NOT_RUNNABLE = {126: "is not an executable file", 127: "was not found in the image"}


@dataclass
class Outcome:
    status: State
    failure: Failure | None = None
    message: str = ""
    public_score: float | None = None
    private_score: float | None = None
    runtime_s: float | None = None
    peak_memory_mb: float | None = None
    exit_code: int | None = None
    log: str = ""
    image_id: str | None = None
    dataset_hash: str | None = None


def classify_run(
    result: sandboxes.RunResult,
    *,
    metric: Metric,
    labels: pd.DataFrame,
    public: np.ndarray,
    limits: sandboxes.Limits,
    max_bytes: int,
) -> Outcome:
    measured = dict(
        runtime_s=round(result.runtime_s, 3),
        peak_memory_mb=result.peak_memory_mb,
        exit_code=result.exit_code,
        log=result.log,
    )
    if result.timed_out:
        message = (
            f"The run took longer than the {limits.time_limit_s:g} s time limit and was stopped."
        )
        return Outcome(State.failed, Failure.timeout, message, **measured)
    if result.oom_killed:
        message = f"The run used more than its {limits.memory_mb} MB of memory and was stopped."
        return Outcome(State.failed, Failure.memory, message, **measured)
    if result.start_error:
        message = f"The container could not start: {result.start_error}"
        return Outcome(State.failed, Failure.crash, message, **measured)
    if result.exit_code in NOT_RUNNABLE:
        message = (
            f"The container exited with code {result.exit_code}: its command "
            f"{NOT_RUNNABLE[result.exit_code]}. Check the image's ENTRYPOINT and CMD."
        )
        return Outcome(State.failed, Failure.crash, message, **measured)
    if result.exit_code != 0:
        message = (
            f"The container exited with code {result.exit_code} before finishing. "
            "Check that it runs with no network, as user 10001, on a read-only filesystem."
        )
        return Outcome(State.failed, Failure.crash, message, **measured)
    try:
        scores = score_predictions(
            result.output_dir / PREDICTIONS,
            labels,
            metric=metric,
            public=public,
            max_bytes=max_bytes,
        )
    except PredictionError as exc:
        return Outcome(State.failed, Failure.bad_output, str(exc), **measured)
    return Outcome(
        State.scored,
        public_score=scores.public,
        private_score=scores.private,
        **measured,
    )
