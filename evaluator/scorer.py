"""Running a sponsor's scoring program on one submission's output, in its own sandbox.

The scorer gets the hardened recipe of a submission (no network, read-only root, uid
10001, its own limits from ``scoring.resources``) and sees this submission's output at
/predictions (read-only), the hidden labels at /reference, the split at /split and
itself at /scoring; it answers in /scores/scores.json. The participant's output is
hostile input to it, and its answer is untrusted input to us: read size-capped, parsed
with every declared metric required on both sides as a finite number.

Who is at fault decides what the team is told and whether the try counts:

- the scorer refuses the output (exits non-zero with /scores/error.txt): the team's
  ``bad_output``, with the scorer's own words;
- anything else that goes wrong (crash, time-out, memory, no or invalid scores.json):
  ``Failure.scorer``, which costs no quota; the sponsor reads why in the scorer's log.
"""

from __future__ import annotations

import json
import math
import os
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import docker.errors

import sandboxes
from challenges.models import Challenge
from evaluator import inputs
from evaluator.context import Context
from evaluator.models import Failure, State
from evaluator.outcome import Outcome, measured, plain

SCORER_IMAGE = "jiebang/scoring:3.11"
SCORES, ERROR = "scores.json", "error.txt"
MAX_SCORES_BYTES = 64 * 1024
MAX_ERROR_BYTES = 2048
SCORES_MB = 1  # /scores: room for scores.json, error.txt and nothing much else
LOG_CAP = 64 * 1024
ENVIRONMENT = {
    "JIEBANG_PREDICTIONS": "/predictions",
    "JIEBANG_REFERENCE": "/reference",
    "JIEBANG_SPLIT": "/split",
    "JIEBANG_SCORES": "/scores",
}
COMMAND = ["python", "/scoring/score.py"]


class MissingScorerImage(RuntimeError):
    """The image a challenge's scorer runs on is not on this worker's Docker engine."""


@dataclass
class Scored:
    """The scorer's verdict: both sides' metrics, or why there are none."""

    public: dict[str, float] | None = None
    private: dict[str, float] | None = None
    failure: Failure | None = None
    code: str = ""
    params: dict = field(default_factory=dict)
    log: str = ""  # for the sponsor

    def outcome(self, run: sandboxes.RunResult) -> Outcome:
        """The submission's outcome: the participant's run measured, the scorer's verdict."""
        return Outcome(
            State.failed if self.failure else State.scored,
            self.failure,
            self.code,
            plain(self.params),
            public_metrics=self.public,
            private_metrics=self.private,
            scorer_log=self.log,
            **measured(run),
        )


def image_for(client, challenge: Challenge) -> str:
    """The scorer image's id: the bundle's ``scoring.image``, else the scorer image, else
    (a worker without it) the base image."""
    named = (challenge.scoring or {}).get("image")
    for tag in [named] if named else [SCORER_IMAGE]:
        try:
            return client.images.get(tag).id
        except docker.errors.ImageNotFound:
            if named:
                raise MissingScorerImage(
                    f"scorer image {tag} is not on this worker; build it "
                    "(`jiebang sandbox build-scorer`)"
                ) from None
    return inputs.base_image(client)


def limits_of(resources: dict | None, runtime: str) -> sandboxes.Limits:
    """The scorer's limits from ``scoring.resources`` (the bundle's defaults when absent)."""
    resources = resources or {}
    return sandboxes.Limits(
        cpus=float(resources.get("cpus", 1.0)),
        memory_mb=int(resources.get("memory_mb", 2048)),
        time_limit_s=float(resources.get("time_limit_s", 300)),
        output_mb=SCORES_MB,
        runtime=runtime,
    )


def score(
    ctx: Context,
    challenge: Challenge,
    *,
    predictions: Path,
    scratch: Path,
    labels: dict[str, str],
    runtime: str,
) -> Scored:
    """Run the challenge's scorer on ``predictions`` (the finished run's /output)."""
    return run_scorer(
        ctx.docker,
        image_id=image_for(ctx.docker, challenge),
        limits=limits_of((challenge.scoring or {}).get("resources"), runtime),
        scratch=scratch,
        program=inputs.ensure_program(ctx, challenge),
        predictions=predictions,
        reference=inputs.ensure_reference(ctx, challenge),
        split=inputs.ensure_split(ctx, challenge),
        names=[m.name for m in challenge.metrics],
        labels=labels,
    )


def run_scorer(
    client,
    *,
    image_id: str,
    limits: sandboxes.Limits,
    scratch: Path,
    program: Path,
    predictions: Path,
    reference: Path,
    split: Path,
    names: list[str],
    labels: dict[str, str],
    seen: Callable[[sandboxes.RunResult], None] | None = None,
) -> Scored:
    """The scorer in its sandbox with the contract's folders; ``seen`` gets its run's
    result while /scores still exists (``jiebang check --keep`` copies it)."""
    mounts = {
        "/scoring": program,
        "/predictions": predictions,
        "/reference": reference,
        "/split": split,
    }
    with sandboxes.run(
        client,
        image_id=image_id,
        limits=limits,
        scratch_dir=scratch,
        mounts=mounts,
        output_at="/scores",
        environment=ENVIRONMENT,
        command=COMMAND,
        labels={**labels, "jiebang.scorer": "1"},
    ) as result:
        if seen is not None:
            seen(result)
        return judge(result, names, limits)


def judge(result: sandboxes.RunResult, names: list[str], limits: sandboxes.Limits) -> Scored:
    """From the scorer's run to a verdict (``result.output_dir`` is its /scores)."""
    log = result.log[-LOG_CAP:]

    def broken(why: str) -> Scored:
        note = f"[jiebang] the scoring program failed: {why}"
        return Scored(failure=Failure.scorer, code="scoring.failed", log=f"{log}\n{note}".strip())

    if result.timed_out:
        return broken(f"it ran past its {limits.time_limit_s:g} s time limit")
    if result.oom_killed:
        return broken(f"it used more than its {limits.memory_mb} MB of memory")
    if result.start_error:
        return broken("its container could not start")
    if result.exit_code != 0:
        message = _error_text(result.output_dir / ERROR)
        if message:
            note = f"[jiebang] the program refused the output (exit {result.exit_code}): {message}"
            return Scored(
                failure=Failure.bad_output,
                code="scoring.refused",
                params={"message": message},
                log=f"{log}\n{note}".strip(),
            )
        return broken(f"it exited with code {result.exit_code} and wrote no {ERROR}")
    try:
        public, private = _read_scores(result.output_dir / SCORES, names)
    except ValueError as exc:
        return broken(str(exc))
    # The public side only: before the close nobody, staff included, sees private scores.
    shown = ", ".join(f"{name}={value:.6g}" for name, value in public.items())
    note = f"[jiebang] scored in {result.runtime_s:.2f} s; public: {shown}"
    return Scored(public=public, private=private, log=f"{log}\n{note}".strip())


def _error_text(path: Path) -> str:
    """The scorer's message for the team: at most 2 KB of text, control characters out."""
    raw = _read_capped(path, MAX_ERROR_BYTES)
    if raw is None:
        return ""
    text = raw.decode("utf-8", "replace")
    text = "".join(c if c in "\n\t" or unicodedata.category(c)[0] != "C" else " " for c in text)
    return text.strip()


def _read_capped(path: Path, cap: int) -> bytes | None:
    """At most ``cap`` bytes of a regular file; None when there is none. Never follows a
    link (the scorer wrote /scores; it is as untrusted as what it read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        # A folder, a FIFO or a device by that name is no answer (and is never read).
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return _read_all(fd, cap)
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_all(fd: int, cap: int) -> bytes:
    chunks, left = [], cap
    while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_scores(path: Path, names: list[str]) -> tuple[dict, dict]:
    raw = _read_capped(path, MAX_SCORES_BYTES + 1)
    if raw is None:
        raise ValueError(f"it wrote no /scores/{SCORES}")
    if len(raw) > MAX_SCORES_BYTES:
        raise ValueError(f"/scores/{SCORES} is larger than {MAX_SCORES_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"/scores/{SCORES} is not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(data, dict):
        raise ValueError(f'/scores/{SCORES} must be an object {{"public": ..., "private": ...}}')
    return tuple(_side(data, side, names) for side in ("public", "private"))


def _side(data: dict, side: str, names: list[str]) -> dict[str, float]:
    values = data.get(side)
    if not isinstance(values, dict):
        raise ValueError(f'/scores/{SCORES}: "{side}" must be an object of metric: number')
    scores = {}
    for name in names:
        value = values.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f'/scores/{SCORES}: "{side}"."{name}" is missing or not a number')
        if not math.isfinite(value):
            raise ValueError(f'/scores/{SCORES}: "{side}"."{name}" is not finite ({value})')
        scores[name] = float(value)
    return scores
