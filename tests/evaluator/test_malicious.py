"""The malicious-submission suite (SANDBOX.md), part 1: hostile programs under runc and runsc.

Each case is a bundle running ``hostile_main.py`` through the real intake and
``run_evaluation``. The well-behaved program is evaluated alone first; then every case
of both runtimes is evaluated, four at a time as four workers of one host would, the
well-behaved program among them. Each test checks one case: the verdict, the worker free
again within the time limit plus a few seconds, no canary in what the team sees, no
container left. The last tests check the host as a whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest

from evaluator.worker import worker_name

pytestmark = [pytest.mark.docker, pytest.mark.slow]

RUNTIMES = ("runc", "runsc")
GRACE_S, CANARY = 6, "JBCANARY"
OUTPUT_BYTES = 64 * 1024**2  # sandboxes.Limits().output_mb
LOG_EXCERPT_BYTES = 64 * 1024  # sandboxes.Limits().log_bytes
LOG_FILES_BYTES = 2 * 1024**2  # hardening: json-file max-size 1 MiB, max-file 2
ANY_END = frozenset({"timeout", "memory", "crash"})
HEAVY = {"cpu_spin", "fork_bomb", "thread_bomb", "stdout_flood", "endless_line", "fill_tmp"}


@dataclass(frozen=True)
class Case:
    program: str
    status: str = "failed"
    failures: frozenset[str] = frozenset()
    words: str = ""  # in the message
    params: dict = field(default_factory=dict)
    challenge: str = "roomy"  # see KINDS in conftest.py


def _failed(kind: str | frozenset[str], words: str = "", program: str = "", **params) -> Case:
    kinds = frozenset({kind}) if isinstance(kind, str) else kind
    return Case(program, "failed", kinds, words, params, "tight" if "timeout" in kinds else "roomy")


def _text(rows: list[tuple[str, str]]) -> dict:
    return {"text": "id,prediction\n" + "".join(f"{i},{p}\n" for i, p in rows)}


def _regression(value: str) -> Case:
    text = _text([(i, value) for i in IDS])
    return Case("out_text", "failed", frozenset({"bad_output"}), value, text, "rmse")


IDS = [f"r{i:03d}" for i in range(40)]
CASES = {
    "well": Case("well", "scored"),
    "cpu_spin": _failed("timeout", "time limit", "spin"),
    "sleep": _failed("timeout", "time limit", "sleep"),
    "pause": _failed("timeout", "time limit", "pause"),
    "sigstop": _failed("timeout", "time limit", "sigstop"),
    "ignore_sigterm": _failed("timeout", "time limit", "sigterm"),
    # runc: the pids limit stops it, it spins to the time limit. runsc: pids do not
    # count guest tasks; the gVisor sandbox hits its host limits and dies (crash).
    "fork_bomb": _failed(ANY_END, "", "forkbomb"),
    "thread_bomb": _failed(frozenset({"timeout", "memory"}), "", "threadbomb"),
    "memory_bomb": _failed("memory", "384 MB", "membomb"),
    "fill_tmp": Case("fill_tmp", "scored"),
    "fill_output_big": _failed("bad_output", "not found", "fill_output_big"),
    "fill_output_many": _failed("bad_output", "not found", "fill_output_many"),
    "write_fs": Case("write_fs", "scored"),
    "stdout_flood": _failed("timeout", "time limit", "stdout_flood"),
    "endless_line": _failed("timeout", "time limit", "endless_line"),
    "network": Case("network", "scored"),
    "search": Case("search", "scored"),
    "privileges": Case("privileges", "scored"),
    "core_dump": _failed("crash", "code 134", "core"),
    "symlink_to_labels": _failed("bad_output", "symbolic link", "out_symlink"),
    "symlink_to_input": _failed(
        "bad_output", "symbolic link", "out_symlink", target="/input/test.csv"
    ),
    "fifo": _failed("bad_output", "", "out_fifo"),
    "directory": _failed("bad_output", "a directory", "out_dir"),
    "five_gb": _failed("bad_output", "the limit is 1048576 bytes", "out_huge"),
    "duplicate_ids": _failed(
        "bad_output", "r001", "out_text", **_text([(i, 0) for i in IDS] + [("r001", 1)])
    ),
    "missing_ids": _failed("bad_output", "missing", "out_text", **_text([(i, 0) for i in IDS[1:]])),
    # A regression challenge: NaN and infinities are refused, not scored.
    "nan": _regression("nan"),
    "inf": _regression("-inf"),
}
# What may succeed inside: under runc a process may trace the sandbox's own init (same
# uid; nothing outside is visible); gVisor's kernel lets a process make user and mount
# namespaces and device nodes in its own memory-backed /tmp, inside the sandbox only.
ALLOWED_PRIVILEGES = {"runc": {"ptrace_init"}, "runsc": {"unshare_user", "unshare_mount", "mknod"}}


def _host_addresses() -> list[str]:
    done = subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=False)
    found = []
    for link in json.loads(done.stdout or "[]"):
        for info in link.get("addr_info", []):
            if info.get("scope") == "global":
                found.append(info["local"])
    return found


class LogWatch:
    """Polls the json log files of this process's running sandboxes: their largest total size."""

    def __init__(self, client: docker.DockerClient, worker: str) -> None:
        self.client, self.worker, self.largest = client, worker, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> LogWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            ours = {"label": f"jiebang.worker={self.worker}"}
            for row in self.client.api.containers(filters=ours):
                try:
                    log_path = Path(self.client.api.inspect_container(row["Id"])["LogPath"])
                    size = sum(p.stat().st_size for p in log_path.parent.glob("*-json.log*"))
                except (docker.errors.APIError, OSError, KeyError):
                    continue  # gone meanwhile
                sub = int(row["Labels"]["jiebang.submission"])
                self.largest[sub] = max(self.largest.get(sub, 0), size)


@pytest.fixture(scope="module")
def runs(hostile):
    """Every case under both runtimes, evaluated concurrently; plus the host before and after."""
    for runtime in RUNTIMES:
        for kind in {case.challenge for case in CASES.values()}:
            hostile.challenge(kind, runtime)
        hostile.baseline(hostile.challenge("roomy", runtime))
    before = hostile.host_state()
    hosts = _host_addresses()
    submitted = {}
    for name, case in CASES.items():
        for runtime in RUNTIMES:
            key = f"{case.challenge}-{runtime}"
            params = {"hosts": hosts, "host_pid": os.getpid(), **case.params}
            params.setdefault("target", str(hostile.labels_path(key)))
            submitted[name, runtime] = hostile.submit(key, hostile.bundle(case.program, **params))
    # Memory bombs first, then each CPU hog between light cases: on two cores a starved
    # memory bomb could reach the time limit before its memory limit.
    heavy = [v for (n, _), v in submitted.items() if n in HEAVY]
    light = [v for (n, _), v in submitted.items() if n not in HEAVY]
    order = [v for (n, _), v in submitted.items() if n == "memory_bomb"]
    while heavy or light:
        order += heavy[:1] + light[:3]
        heavy, light = heavy[1:], light[3:]
    order = list(dict.fromkeys(order))
    with LogWatch(hostile.client, worker_name()) as watch:
        observed = hostile.evaluate_all(order, threads=4)
    return {
        "observed": {k: observed[v] for k, v in submitted.items()},
        "log_bytes": {k: watch.largest.get(v, 0) for k, v in submitted.items()},
        "before": before,
    }


CASE_IDS = [(name, runtime) for name in CASES for runtime in RUNTIMES]


@pytest.mark.parametrize(("name", "runtime"), CASE_IDS, ids=[f"{n}-{r}" for n, r in CASE_IDS])
def test_verdict_and_hygiene(runs, hostile, name, runtime):
    case, seen = CASES[name], runs["observed"][name, runtime]
    assert seen.status == case.status, (seen.message, seen.log[-2000:])
    if case.failures:
        assert seen.failure in case.failures, seen.message
    assert case.words in seen.message
    # The worker is free again within the time limit plus a few seconds.
    key = f"{case.challenge}-{runtime}"
    assert seen.elapsed < hostile.time_limit(key) + GRACE_S, seen.elapsed
    assert seen.containers_left == []
    # No label, split secret, secret key or worker environment reaches the team.
    assert CANARY not in seen.visible
    assert len(seen.log.encode()) <= LOG_EXCERPT_BYTES
    if case.status == "scored" and case.challenge == "roomy":
        alone = hostile.baseline(key)
        assert (seen.public, seen.private) == (alone.public, alone.private)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_floods_are_capped_in_the_log_and_on_disk(runs, runtime):
    for name in ("stdout_flood", "endless_line"):
        seen = runs["observed"][name, runtime]
        # The tail of the flood, cut to the cap; the worker never held more than the tail.
        assert len(seen.log.encode()) == LOG_EXCERPT_BYTES
        assert set(seen.log) <= {"y", "z", "\n"}
        assert 0 < runs["log_bytes"][name, runtime] <= LOG_FILES_BYTES + 64 * 1024


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_filling_tmp_and_output_stops_at_their_caps(runs, runtime):
    tmp = runs["observed"]["fill_tmp", runtime].report
    assert tmp["error"] in ("ENOSPC", "EFBIG") and tmp["written"] <= 256 * 1024**2
    big = runs["observed"]["fill_output_big", runtime].report
    assert big["error"] in ("ENOSPC", "EFBIG") and big["written"] <= OUTPUT_BYTES
    many = runs["observed"]["fill_output_many", runtime].report
    assert many["files"] <= 64 * 256  # the /output tmpfs's inodes
    huge = runs["observed"]["five_gb", runtime].report
    assert huge["truncate"] != "ok" and huge["written"] <= OUTPUT_BYTES


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_nothing_on_disk_is_writable_but_tmp_and_output(runs, runtime):
    facts = runs["observed"]["write_fs", runtime].report
    assert len(facts) == 11
    assert {k: v for k, v in facts.items() if v == "ok"} == {}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_every_network_attempt_fails(runs, runtime):
    facts = dict(runs["observed"]["network", runtime].report)
    assert facts.pop("interfaces") == ["lo"]
    assert any(k.startswith("host ") for k in facts)
    assert {"dns", "redis", "metadata", "ipv6_external", "raw", "jiebang_docker_sock"} <= set(facts)
    assert {k: v for k, v in facts.items() if v == "ok"} == {}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_searching_everywhere_finds_no_secret(runs, runtime):
    facts = runs["observed"]["search", runtime].report
    assert facts["control"] > 0  # the search does find what is there to find
    assert facts["scanned"] > 100
    assert facts["found"] == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_no_privilege_can_be_gained(runs, runtime):
    facts = dict(runs["observed"]["privileges", runtime].report)
    assert (facts.pop("uid"), facts.pop("euid")) == (10001, 10001)
    assert len(facts) == 18
    succeeded = {k for k, v in facts.items() if v == "ok"}
    assert succeeded <= ALLOWED_PRIVILEGES[runtime], facts


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_core_dump_writes_nothing(runs, runtime):
    seen = runs["observed"]["core_dump", runtime]
    assert seen.exit_code == 134
    assert seen.report == {"child_signal": 6, "cores": [], "dumped": False}


def test_the_host_is_as_it_was(runs, hostile):
    hostile.assert_restored(runs["before"])
