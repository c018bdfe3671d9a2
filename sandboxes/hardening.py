"""The hardened container recipe of SANDBOX.md, as docker-py ``containers.create`` arguments."""

from __future__ import annotations

import os
import posixpath
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
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
# Where the image's own system lives: a bind over (or above) one of these would replace
# it, and /tmp is always the run's own tmpfs.
SYSTEM_PATHS = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
    "/run", "/sbin", "/sys", "/tmp", "/usr", "/var",
)  # fmt: skip
# Plain names only: no "..", no "//", no trailing "/", nothing Docker could read otherwise.
_TARGET = re.compile(r"^(/[A-Za-z0-9_.-]+)+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED_ENV = ("JIEBANG_INPUT", "JIEBANG_OUTPUT", "HOME", "PATH", "HOSTNAME")


@dataclass(frozen=True)
class Spec:
    """What one run needs beyond the limits."""

    image_id: str
    image_config: dict[str, Any]
    input_dir: Path | None
    output_dir: Path
    code_dir: Path | None
    command: list[str] | None
    labels: dict[str, str]
    cgroup_parent: str | None = None
    # Where ``output_dir`` appears in the container, writable.
    output_at: str = OUTPUT
    # Further read-only binds, {container path: host path}, checked by ``check_mounts``.
    mounts: Mapping[str, Path] = field(default_factory=dict)
    # Added to the contract's variables (``environment``), checked by ``check_environment``.
    environment: Mapping[str, str] = field(default_factory=dict)


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
        "tmpfs": _tmpfs(spec.image_config, limits.tmp_mb, _targets(spec)),
        "ulimits": [
            Ulimit(name="nofile", soft=limits.nofile, hard=limits.nofile),
            # Caps every file written anywhere (/tmp too): the output's cap where no
            # tmpfs could be mounted, and no sparse file bigger than the output.
            Ulimit(name="fsize", soft=limits.output_mb * 1024**2, hard=limits.output_mb * 1024**2),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "ipc_mode": "private",
        "init": True,
        # Under host memory pressure, the kernel should kill the submission, not the worker.
        "oom_score_adj": 1000,
        "environment": environment(
            spec.image_config,
            has_input=spec.input_dir is not None,
            output_at=spec.output_at,
            extra=spec.environment,
        ),
        "healthcheck": {"test": ["NONE"]},
        "log_config": LogConfig(
            type="json-file", config={"max-size": str(LOG_FILE_BYTES), "max-file": "2"}
        ),
        "labels": labels(spec.labels, limits.time_limit_s),
        "mounts": _mounts(spec),
        **({"cgroup_parent": spec.cgroup_parent} if spec.cgroup_parent else {}),
    }


def environment(
    image_config: dict[str, Any],
    *,
    has_input: bool = True,
    output_at: str = OUTPUT,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The contract's variables, then ``extra``; PATH is the image's own so its programs
    are found. JIEBANG_INPUT and JIEBANG_OUTPUT name only what is mounted where they say."""
    path = DEFAULT_PATH
    for item in image_config.get("Env") or []:
        if item.startswith("PATH="):
            path = item[len("PATH=") :]
    contract = {"JIEBANG_INPUT": INPUT} if has_input else {}
    if output_at == OUTPUT:
        contract["JIEBANG_OUTPUT"] = OUTPUT
    contract |= {"HOME": "/tmp", "PATH": path}
    check_environment(extra or {}, contract)
    return {**contract, **(extra or {})}


def check_environment(extra: Mapping[str, str], contract: Collection[str] = ()) -> None:
    """ValueError (a caller's bug) for a variable Docker cannot pass or one of the
    contract's: those say what is mounted where, which only ``run`` knows."""
    for name, value in extra.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ValueError(f"environment variable name {name!r} is not a plain name")
        if not isinstance(value, str) or "\0" in value:
            raise ValueError(f"environment variable {name} needs a str without NUL")
        if name in contract or name in _RESERVED_ENV:
            raise ValueError(f"environment variable {name} is the contract's; it cannot be set")


def check_mounts(
    mounts: Mapping[str, Path],
    *,
    output_at: str,
    has_input: bool,
    has_code: bool,
) -> dict[str, Path]:
    """``mounts`` checked, as {target: host path}; ValueError (a caller's bug) if a target
    is not a plain absolute path, covers a system path, /tmp or another mount (the
    output, /input, /code included), or if a host path is missing, relative or not
    resolved (a link anywhere in it could be changed to point elsewhere)."""
    _check_target(output_at)
    taken = {output_at: "the output"}
    for fixed, what, used in ((INPUT, "the input", has_input), (CODE, "the code", has_code)):
        if used and _overlap(output_at, fixed):
            raise ValueError(f"the output at {output_at!r} overlaps {what} at {fixed}")
        if used:
            taken[fixed] = what
    checked: dict[str, Path] = {}
    for target, host in mounts.items():
        _check_target(target)
        for other, what in taken.items():
            if _overlap(target, other):
                raise ValueError(f"mount target {target!r} overlaps {what} at {other!r}")
        taken[target] = "another mount"
        checked[target] = _check_host(target, host)
    return checked


def _check_target(target: object) -> None:
    if not isinstance(target, str) or not _TARGET.match(target):
        raise ValueError(f"mount target {target!r} is not a plain absolute path")
    if posixpath.normpath(target) != target:
        raise ValueError(f"mount target {target!r} is not normalized")
    for system in SYSTEM_PATHS:
        if _overlap(target, system):
            raise ValueError(f"mount target {target!r} overlaps the system path {system}")


def _check_host(target: str, host: Path) -> Path:
    path = Path(host)
    if not path.is_absolute() or os.path.realpath(path) != str(path):
        raise ValueError(f"host path for {target} must be absolute and resolved: {host}")
    if not (path.is_dir() or path.is_file()):
        raise ValueError(f"host path for {target} is not a folder or a file: {host}")
    return path


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


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


def _targets(spec: Spec) -> set[str]:
    """Where this run mounts something of its own."""
    targets = {spec.output_at, *spec.mounts}
    if spec.input_dir is not None:
        targets.add(INPUT)
    if spec.code_dir is not None:
        targets.add(CODE)
    return targets


def _tmpfs(image_config: dict[str, Any], tmp_mb: int, taken: set[str]) -> dict[str, str]:
    # A VOLUME where we mount something is covered by that mount (Docker merges mounts by
    # their cleaned destination); every other one would be a volume on the host's disk.
    mounts = {
        path: f"rw,nosuid,nodev,noexec,size={VOLUME_TMPFS_MB}m"
        for path in (image_config.get("Volumes") or {})
        if posixpath.normpath(path) not in (*taken, "/tmp")
    }
    # exec stays allowed on /tmp: libraries unpack and load native code there. gVisor
    # ignores nr_inodes; its tmpfs lives in the sandbox's own, memory-limited, kernel.
    inodes = tmp_mb * INODES_PER_MB
    mounts["/tmp"] = f"rw,nosuid,nodev,exec,size={tmp_mb}m,nr_inodes={inodes},mode=1777"
    return mounts


def _mounts(spec: Spec) -> list[Mount]:
    mounts = []
    if spec.input_dir is not None:
        mounts.append(Mount(INPUT, str(spec.input_dir), type="bind", read_only=True))
    mounts.append(Mount(spec.output_at, str(spec.output_dir), type="bind", read_only=False))
    if spec.code_dir is not None:
        mounts.append(Mount(CODE, str(spec.code_dir), type="bind", read_only=True))
    for target, host in spec.mounts.items():
        mounts.append(Mount(target, str(host), type="bind", read_only=True))
    return mounts
