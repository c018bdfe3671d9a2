"""Where a submission's time goes inside the worker: the pipeline benchmark's ``profile``.

    python -m benchmarks.pipeline_profile ID...   (JIEBANG_* settings in the environment)

Runs ``evaluator.jobs.run_evaluation`` for each id in this process, as a worker does,
timing every Docker API call (by endpoint) and the evaluator's and sandbox's own steps,
and prints, as JSON, each step's milliseconds per job. The first two ids only warm up.
It wraps functions by name and skips those a version of the code does not have, so the
same module measures the code before and after a change (run from each tree).
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import sys
import time
from collections import defaultdict

WARM_UP = 2
STEPS = {
    "evaluator.jobs": ["_claim", "_set_status", "_record", "classify_run"],
    "evaluator.inputs": ["ensure_image", "ensure_inputs", "truth"],
    "evaluator.standings": ["note_scored"],
    "jiebang.audit": ["record"],
    "sandboxes": ["new_scratch_dir", "remove_scratch_dir"],
    "sandboxes.scratch": ["create", "destroy", "_mount_tmpfs", "_unmount"],
    "sandboxes.cgroups": ["remove", "peak_bytes"],
    "sandboxes.runner": ["_log", "_remove"],
}
_ID = re.compile(r"sha256:[0-9a-f]{64}|[0-9a-f]{64}")


def _wrap(owner, name: str, label: str, spent: dict) -> None:
    original = getattr(owner, name, None)
    if original is None:
        return

    @functools.wraps(original)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label].append(time.perf_counter() - started)

    setattr(owner, name, timed)


def _wrap_docker(spent: dict) -> None:
    from docker.api.client import APIClient

    for method in ("_get", "_post", "_delete"):
        original = getattr(APIClient, method)

        def timed(self, url, *args, _original=original, _method=method, **kwargs):
            path = re.sub(r"^.*?/v[0-9.]+/", "/", _ID.sub("ID", url))
            started = time.perf_counter()
            try:
                return _original(self, url, *args, **kwargs)
            finally:
                spent[f"docker {_method[1:].upper()} {path}"].append(time.perf_counter() - started)

        setattr(APIClient, method, timed)


def main(ids: list[int]) -> dict:
    from evaluator import jobs
    from evaluator.context import open_context

    ctx = open_context()
    for sub_id in ids[:WARM_UP]:
        jobs.run_evaluation(ctx, sub_id)
    spent: dict[str, list[float]] = defaultdict(list)
    _wrap_docker(spent)
    for module, names in STEPS.items():
        try:
            owner = importlib.import_module(module)
        except ImportError:
            continue
        for name in names:
            _wrap(owner, name, f"{module}.{name}", spent)
    jobs_run, statuses = [], set()
    for sub_id in ids[WARM_UP:]:
        started = time.perf_counter()
        statuses.add(jobs.run_evaluation(ctx, sub_id))
        jobs_run.append(time.perf_counter() - started)
    count = len(jobs_run)
    return {
        "statuses": sorted(statuses),
        "job_ms": sum(jobs_run) / count * 1000,
        "steps": {k: [len(v) / count, sum(v) / count * 1000] for k, v in spent.items()},
    }


if __name__ == "__main__":
    print(json.dumps(main([int(a) for a in sys.argv[1:]])))
