"""From a finished container run to a verdict: failure kind or scores."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import sandboxes
from challenges.metrics import Metric
from evaluator import messages
from evaluator.models import Failure, State
from evaluator.scoring import PredictionError, score_predictions
from sandboxes.messages import NOT_STARTED
from sandboxes.runner import START_ERROR

PREDICTIONS = "predictions.csv"
# Exit codes of the container's init when it cannot run the command at all.
NOT_RUNNABLE = {126: "run.not_executable", 127: "run.not_found"}


@dataclass
class Outcome:
    """``message_code`` and ``message_params``: what the team is told, as a code of
    :mod:`evaluator.messages` (put into words when shown); "" when nothing."""

    status: State
    failure: Failure | None = None
    message_code: str = ""
    message_params: dict = field(default_factory=dict)
    public_score: float | None = None
    private_score: float | None = None
    runtime_s: float | None = None
    peak_memory_mb: float | None = None
    exit_code: int | None = None
    log: str = ""
    image_id: str | None = None
    dataset_hash: str | None = None

    @property
    def message(self) -> str:
        """In English, for logs and tests."""
        return messages.english(self.message_code, self.message_params)


def failed(failure: Failure, code: str, /, state: State = State.failed, **params) -> Outcome:
    return Outcome(state, failure, code, plain(params))


def rejected(exc: sandboxes.ArchiveError | sandboxes.CodeBundleError) -> Outcome:
    """An upload the worker refused when it unpacked it."""
    return failed(Failure.bad_output, exc.code, State.rejected, **exc.params)


def plain(params: dict) -> dict:
    """The parameters as JSON holds them (numpy numbers become Python's)."""
    return json.loads(
        json.dumps(params, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    )


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


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

    def fail(failure: Failure, code: str, **params) -> Outcome:
        outcome = failed(failure, code, **params)
        for name, value in measured.items():
            setattr(outcome, name, value)
        return outcome

    if result.timed_out:
        return fail(Failure.timeout, "run.timeout", limit_s=_number(limits.time_limit_s))
    if result.oom_killed:
        return fail(Failure.memory, "run.memory", limit_mb=_number(limits.memory_mb))
    if result.start_error:
        known = result.start_error == START_ERROR  # the sandbox's own words: its code
        detail = NOT_STARTED if known else result.start_error
        return fail(Failure.crash, "run.not_started", detail=detail)
    if result.exit_code in NOT_RUNNABLE:
        return fail(Failure.crash, NOT_RUNNABLE[result.exit_code], exit_code=result.exit_code)
    if result.exit_code != 0:
        return fail(Failure.crash, "run.crash", exit_code=result.exit_code)
    try:
        scores = score_predictions(
            result.output_dir / PREDICTIONS,
            labels,
            metric=metric,
            public=public,
            max_bytes=max_bytes,
        )
    except PredictionError as exc:
        return fail(Failure.bad_output, exc.message_code, **exc.params)
    return Outcome(
        State.scored,
        public_score=scores.public,
        private_score=scores.private,
        **measured,
    )
