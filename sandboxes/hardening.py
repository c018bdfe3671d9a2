"""The hardened container recipe of SANDBOX.md, as docker-py ``containers.create`` arguments."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.types import LogConfig, Mount, Ulimit

from sandboxes import owner
from sandboxes.scratch import INODES_PER_MB

SANDBOX_USER = "10001:10001"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INPUT, OUTPUT, CODE = "/input", "/output", "/code"
LABEL = "jiebang.sandbox"
OWNER_LABEL = "jiebang.sandbox.owner"
HOST_LABEL = "jiebang.sandbox.host"
DEADLINE_LABEL = "jiebang.sandbox.deadline"
# After this long past its time limit a container is a leftover whoever owns it.
DEADLINE_GRACE_S = 300
# Docker's json-file driver rotates at max-size; two files keep at least one full
# file of recent output for the excerpt while bounding disk use.
LOG_FILE_BYTES = 1024 * 1024
# Under gVisor the pids cgroup counts the sandbox kernel's host threads, not the
# submission's tasks; below this the sandbox itself fails to start or crashes.
RUNSC_MIN_PIDS = 256
# A VOLUME the image declares would be a writable host directory; cover it with this.
VOLUME_TMPFS_MB = 16


@dataclass(frozen=True)
class Spec:
    """What one run needs beyond the limits."""

    image_id: str
    image_config: dict[str, Any]
    input_dir: Path
    output_dir: Path
    code_dir: Path | None
    command: list[str] | None
    labels: dict[str, str]
    cgroup_parent: str | None = None


def create_kwargs(spec: Spec, limits: Any) -> dict[str, Any]:
    """Arguments for ``client.containers.create`` that run ``spec`` under ``limits``."""
    memory = f"{limits.memory_mb}m"
    return {
        "image": spec.image_id,
        **_command(spec.command),
        "detach": True,
        "runtime": limits.runtime,
        "network_mode": "none",
        "read_only": True,
        "user": SANDBOX_USER,
        # The image's WORKDIR could be e.g. /proc/self/fd/N; never inherit it.
        "working_dir": "/tmp",
        "hostname": "sandbox",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "mem_limit": memory,
        "memswap_limit": memory,
        "nano_cpus": int(limits.cpus * 1e9),
        "pids_limit": _pids(limits),
        "tmpfs": _tmpfs(spec.image_config, limits.tmp_mb),
        "ulimits": [
            Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile),
            Ulimit(name="fsize", soft=limits.output_mb * 1024**2, hard=limits.output_mb * 1024**2),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "ipc_mode": "private",
        "init": True,
        # Under host memory pressure, the kernel should kill the submission, not the worker.
        "oom_score_adj": 1000,
        "environment": environment(spec.image_config),
        "healthcheck": {"test": ["NONE"]},
        "log_config": LogConfig(
            type="json-file", config={"max-size": str(LOG_FILE_BYTES), "max-file": "2"}
        ),
        "labels": labels(spec.labels, limits.time_limit_s),
        "mounts": _mounts(spec),
        **({"cgroup_parent": spec.cgroup_parent} if spec.cgroup_parent else {}),
    }


def environment(image_config: dict[str, Any]) -> dict[str, str]:
    """The contract's variables; PATH is the image's own so its programs are found."""
    path = DEFAULT_PATH
    for item in image_config.get("Env") or []:
        if item.startswith("PATH="):
            path = item[len("PATH=") :]
    return {"JIEBANG_INPUT": INPUT, "JIEBANG_OUTPUT": OUTPUT, "HOME": "/tmp", "PATH": path}


def labels(extra: dict[str, str], time_limit_s: float) -> dict[str, str]:
    """The caller's labels plus ours, which the caller cannot override."""
    deadline = time.time() + time_limit_s + DEADLINE_GRACE_S
    return {
        **extra,
        LABEL: "1",
        OWNER_LABEL: owner.token(),
        HOST_LABEL: owner.host(),
        DEADLINE_LABEL: str(int(deadline)),
    }


def _pids(limits: Any) -> int:
    if limits.runtime == "runsc":
        return max(limits.pids, RUNSC_MIN_PIDS)
    return limits.pids


def _command(command: list[str] | None) -> dict[str, Any]:
    if not command:
        return {}
    # Replacing the entrypoint too, so an image's ENTRYPOINT cannot wrap our command.
    return {"entrypoint": command[:1], "command": command[1:]}


def _tmpfs(image_config: dict[str, Any], tmp_mb: int) -> dict[str, str]:
    mounts = {
        path: f"rw,nosuid,nodev,noexec,size={VOLUME_TMPFS_MB}m"
        for path in (image_config.get("Volumes") or {})
        if path not in (INPUT, OUTPUT, CODE, "/tmp")
    }
    # exec stays allowed on /tmp: libraries unpack and load native code there. gVisor
    # ignores nr_inodes; its tmpfs lives in the sandbox's own, memory-limited, kernel.
    inodes = tmp_mb * INODES_PER_MB
    mounts["/tmp"] = f"rw,nosuid,nodev,exec,size={tmp_mb}m,nr_inodes={inodes},mode=1777"
    return mounts


def _mounts(spec: Spec) -> list[Mount]:
    mounts = [
        Mount(INPUT, str(spec.input_dir), type="bind", read_only=True),
        Mount(OUTPUT, str(spec.output_dir), type="bind", read_only=False),
    ]
    if spec.code_dir is not None:
        mounts.append(Mount(CODE, str(spec.code_dir), type="bind", read_only=True))
    return mounts
