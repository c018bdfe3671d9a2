"""From a finished container run to a verdict: failure kind or scores."""

from __future__ import annotations

import builtins
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import sandboxes
from challenges.metrics import Metric
from evaluator import messages
from evaluator.models import Failure, State, Submission
from evaluator.scoring import PredictionError, score_predictions
from sandboxes.messages import NOT_STARTED
from sandboxes.runner import START_ERROR

PREDICTIONS = "predictions.csv"
# Exit codes of the container's init when it cannot run the command at all.
NOT_RUNNABLE = {126: "run.not_executable", 127: "run.not_found"}


@dataclass
class Outcome:
    """What became of a submission: the one set of fields a worker writes to its row
    (``apply``) and to the audit log (``audit_fields``).

    ``message_code`` and ``message_params``: what the team is told, as a code of
    :mod:`evaluator.messages` (put into words when shown); "" when nothing.
    """

    status: State
    failure: Failure | None = None
    message_code: str = ""
    message_params: dict = field(default_factory=dict)
    public_metrics: dict[str, float] | None = None
    private_metrics: dict[str, float] | None = None
    runtime_s: float | None = None
    peak_memory_mb: float | None = None
    exit_code: int | None = None
    log: str = ""
    scorer_log: str = ""
    image_id: str | None = None
    dataset_hash: str | None = None

    @property
    def message(self) -> str:
        """In English, for logs and tests."""
        return messages.english(self.message_code, self.message_params)

    def apply(self, sub: Submission, ranking_metric: str) -> None:
        """Write this outcome onto the row; its two scores are the ranking metric's."""
        sub.status = self.status.value
        sub.failure = self.failure.value if self.failure else None
        sub.tell(self.message_code, **self.message_params)
        sub.public_metrics = _finite(self.public_metrics)
        sub.private_metrics = _finite(self.private_metrics)
        sub.public_score = (sub.public_metrics or {}).get(ranking_metric)
        sub.private_score = (sub.private_metrics or {}).get(ranking_metric)
        sub.runtime_s = self.runtime_s
        sub.peak_memory_mb = self.peak_memory_mb
        sub.exit_code = self.exit_code
        sub.log_excerpt = self.log
        sub.scorer_log = self.scorer_log
        sub.image_id = self.image_id
        sub.dataset_hash = self.dataset_hash


def audit_fields(sub: Submission) -> dict:
    """What the audit log records of a final submission."""
    return dict(
        challenge_id=sub.challenge_id,
        submission=sub.id,
        team=sub.team_id,
        failure=sub.failure,
        image_id=sub.image_id,
        dataset_hash=sub.dataset_hash,
        public_score=sub.public_score,
        private_score=sub.private_score,
        public_metrics=sub.public_metrics,
        private_metrics=sub.private_metrics,
        runtime_s=sub.runtime_s,
        rerun_of=sub.rerun_of_id,
        # Only a dry run says so: every other event keeps the shape it always had.
        **({"dry_run": True} if sub.dry_run else {}),
    )


def _finite(metrics: dict[str, float] | None) -> dict[str, float | None] | None:
    """NaN and infinities (an undefined metric) are stored as None: JSON has no NaN."""
    if metrics is None:
        return None
    return {k: (v if v is not None and math.isfinite(v) else None) for k, v in metrics.items()}


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


def measured(result: sandboxes.RunResult) -> dict:
    """What every outcome of a finished run carries."""
    return dict(
        runtime_s=round(result.runtime_s, 3),
        peak_memory_mb=result.peak_memory_mb,
        exit_code=result.exit_code,
        log=result.log,
    )


def failed_run(result: sandboxes.RunResult, failure: Failure, code: str, /, **params) -> Outcome:
    """A failure of a run that finished: the code, and what the run measured."""
    outcome = failed(failure, code, **params)
    for name, value in measured(result).items():
        setattr(outcome, name, value)
    return outcome


def run_failure(
    result: sandboxes.RunResult, limits: sandboxes.Limits, *, show_logs: bool = False
) -> Outcome | None:
    """Why the run itself failed, or None when it exited 0. ``show_logs``: the team reads
    its run log (else the error's last line is all it gets, and it is told why)."""

    def fail(failure: Failure, code: str, **params) -> Outcome:
        return failed_run(result, failure, code, **params)

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
        return _crash(result, show_logs, fail)
    return None


def _crash(result: sandboxes.RunResult, show_logs: bool, fail) -> Outcome:
    """A crash, said as well as the team may be told it.

    With logs shown, the last line of the Python traceback ("KeyError: 'x'"). With logs
    hidden, a program could spell input data into that line: only the kind of a built-in
    exception is told (a few bits, like the exit code), and nothing of the program's own
    exception types, file names or messages."""
    error = last_error(result.log)
    if error is None:
        code = "run.crash" if show_logs else "run.crash_hidden"
        return fail(Failure.crash, code, exit_code=result.exit_code)
    if show_logs:
        return fail(Failure.crash, "run.error", exit_code=result.exit_code, error=error)
    kind = error.partition(":")[0]
    if kind not in BUILTIN_ERRORS:
        return fail(Failure.crash, "run.crash_hidden", exit_code=result.exit_code)
    return fail(Failure.crash, "run.error_hidden", exit_code=result.exit_code, error=kind)


TRACEBACK = "Traceback (most recent call last):"
BUILTIN_ERRORS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)
MAX_ERROR = 300


def last_error(log: str) -> str | None:
    """The last line of the last Python traceback in ``log`` ("KeyError: 'x'"), at most
    300 characters; None when there is none."""
    at = log.rfind(TRACEBACK)
    if at < 0:
        return None
    lines = [line for line in log[at:].splitlines()[1:] if line.strip()]
    final = next((line for line in reversed(lines) if not line[:1].isspace()), None)
    if final is None:
        return None
    kind = final.partition(":")[0]
    if not kind.replace(".", "").replace("_", "").isalnum():
        return None
    return final.strip()[:MAX_ERROR]


def classify_run(
    result: sandboxes.RunResult,
    *,
    metric: Metric,
    labels: pd.DataFrame,
    public: np.ndarray,
    limits: sandboxes.Limits,
    max_bytes: int,
    show_logs: bool = False,
) -> Outcome:
    """A run scored by the built-in scorer of ``metric`` (predictions.csv)."""
    failure = run_failure(result, limits, show_logs=show_logs)
    if failure is not None:
        return failure
    try:
        scores = score_predictions(
            result.output_dir / PREDICTIONS,
            labels,
            metric=metric,
            public=public,
            max_bytes=max_bytes,
        )
    except PredictionError as exc:
        return failed_run(result, Failure.bad_output, exc.message_code, **exc.params)
    notice = ("score.two_values", {"metric": metric.name}) if scores.two_values else ("", {})
    return Outcome(
        State.scored,
        message_code=notice[0],
        message_params=notice[1],
        public_metrics=None if scores.public is None else {metric.name: scores.public},
        private_metrics=None if scores.private is None else {metric.name: scores.private},
        **measured(result),
    )
