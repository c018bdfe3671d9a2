"""Run an untrusted image under hard limits and report what happened."""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import requests
from docker.models.containers import Container, _create_container_args

from sandboxes import cgroups, hardening, monitor, scratch
from sandboxes.messages import NOT_STARTED, english
from sandboxes.reaper import reap

logger = logging.getLogger(__name__)

__all__ = ["Limits", "RunResult", "reap", "run"]

_IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
# How long a SIGKILLed container may take to be reported dead (gVisor is slower).
KILL_WAIT_S = 30
OOM_EXIT_CODE = 137
# Without a recorded OOM kill, an exit by SIGKILL this close to the limit counts as one.
OOM_NEAR_LIMIT = 0.9
# What a participant is told when Docker refuses to start their container (Docker's own
# text goes to our log only: it can name host paths).
START_ERROR = english(NOT_STARTED["code"], {})  # the code: sandboxes.messages.NOT_STARTED


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run."""

    cpus: float = 1.0
    memory_mb: int = 2048
    time_limit_s: float = 600
    pids: int = 256
    tmp_mb: int = 256
    output_mb: int = 64
    nofile: int = 256
    log_bytes: int = 64 * 1024
    log_lines: int = 500
    runtime: str = "runc"


@dataclass
class RunResult:
    """What a run did; ``output_dir`` exists only inside ``run``'s ``with`` block.

    ``exit_code`` is None when the run was killed for exceeding its time limit.
    ``start_error`` says, for the participant, why the image's command could not
    even be started (Docker's own text is only logged: it may name host paths).
    """

    exit_code: int | None
    timed_out: bool
    oom_killed: bool
    runtime_s: float
    peak_memory_mb: float | None
    log: str
    log_truncated: bool
    output_dir: Path
    start_error: str | None = None


@contextmanager
def run(
    client: docker.DockerClient,
    *,
    image_id: str,
    limits: Limits,
    scratch_dir: Path,
    input_dir: Path | None = None,
    mounts: Mapping[str, Path] | None = None,
    output_at: str = hardening.OUTPUT,
    environment: Mapping[str, str] | None = None,
    command: list[str] | None = None,
    code_dir: Path | None = None,
    labels: dict[str, str] | None = None,
) -> Iterator[RunResult]:
    """Run ``image_id`` under ``limits``; yield the result while its output folder exists.

    A participant's run: ``input_dir`` at /input, the writable output at /output, the
    contract's JIEBANG_INPUT and JIEBANG_OUTPUT. A scorer's: no ``input_dir``, read-only
    ``mounts`` ({container path: host path}), the output ``output_at`` elsewhere (/scores)
    and its variables in ``environment``. The output is a tmpfs of ``limits.output_mb``
    (when we may mount); ``RunResult.output_dir`` is its host path.

    On leaving the block the container is removed, the output unmounted and deleted,
    whatever happened. A bad mount or variable is a ValueError; Docker failures
    propagate unchanged.
    """
    if not _IMAGE_ID.match(image_id):
        raise ValueError(f"run needs an image id (sha256:<64 hex>), not {image_id!r}")
    binds = hardening.check_mounts(
        mounts or {},
        output_at=output_at,
        has_input=input_dir is not None,
        has_code=code_dir is not None,
    )
    hardening.check_environment(environment or {})
    try:
        image_config = _image_config(client, image_id)
        # Docker accepts a plain cgroup path as parent only with the cgroupfs driver.
        use_cgroup = _cgroup_driver(client) == "cgroupfs"
    except docker.errors.DockerException:
        _forget_engine(client)
        raise
    workspace = scratch.create(scratch_dir, limits.output_mb)
    cgroup = workspace.root.name if use_cgroup else None
    container: Container | None = None
    try:
        spec = hardening.Spec(
            image_id=image_id,
            image_config=image_config,
            input_dir=Path(input_dir).resolve() if input_dir is not None else None,
            output_dir=workspace.output,
            code_dir=Path(code_dir).resolve() if code_dir is not None else None,
            command=command,
            labels=dict(labels or {}),
            cgroup_parent=cgroups.parent_path(cgroup) if cgroup else None,
            output_at=output_at,
            mounts=binds,
            environment=dict(environment or {}),
        )
        container = _create(client, hardening.create_kwargs(spec, limits))
        yield _execute(container, limits, workspace.output, cgroup)
    except docker.errors.DockerException:
        # The engine may have been restarted with other settings: ask it again next time.
        _forget_engine(client)
        raise
    finally:
        if container is not None:
            _remove(container)
        if cgroup is not None:
            cgroups.remove(cgroup)
        scratch.destroy(workspace)


# What cannot change while the engine runs, asked once per client: ``info`` makes the
# daemon gather its whole state (5-15 ms here) for the one field a run needs.
_engines: weakref.WeakKeyDictionary[docker.DockerClient, str | None] = weakref.WeakKeyDictionary()
# Image configs by image id. The id is the digest of the config, so it cannot change.
_configs: OrderedDict[str, dict[str, Any]] = OrderedDict()
_CONFIGS_KEPT = 64
_lock = threading.Lock()


def _cgroup_driver(client: docker.DockerClient) -> str | None:
    with _lock:
        if client in _engines:
            return _engines[client]
    driver = client.info().get("CgroupDriver")
    with _lock:
        _engines[client] = driver
    return driver


def _forget_engine(client: docker.DockerClient) -> None:
    with _lock:
        _engines.pop(client, None)


def _image_config(client: docker.DockerClient, image_id: str) -> dict[str, Any]:
    with _lock:
        if image_id in _configs:
            _configs.move_to_end(image_id)
            return _configs[image_id]
    # An image removed since is found out by ``create`` (ImageNotFound), as before.
    config = client.api.inspect_image(image_id).get("Config") or {}
    with _lock:
        _configs[image_id] = config
        while len(_configs) > _CONFIGS_KEPT:
            _configs.popitem(last=False)
    return config


def _create(client: docker.DockerClient, kwargs: dict[str, Any]) -> Container:
    """``client.containers.create`` without the inspect docker-py makes after it.

    Nothing of that inspect is used: ``_execute`` inspects once the run has ended.
    """
    kwargs = {"command": None, **kwargs, "version": client.api._version}
    created = client.api.create_container(**_create_container_args(kwargs))
    return client.containers.prepare_model({"Id": created["Id"]})


def _execute(
    container: Container, limits: Limits, output_dir: Path, cgroup: str | None
) -> RunResult:
    try:
        container.start()
    except docker.errors.APIError as exc:
        # Docker answers 400 when the image itself is unfit (e.g. /input is a file in it,
        # so nothing can be mounted there): the submission's fault, not the platform's.
        # (An unrunnable ENTRYPOINT/CMD is reported by the init process: exit 126/127.)
        if not exc.is_client_error():
            raise
        return _not_started(container, exc, output_dir)
    started = time.monotonic()
    poller = None if cgroup else _start_poller(container)
    try:
        timed_out = not _wait(container, limits.time_limit_s, started)
    finally:
        polled = poller.stop() if poller else None
    peak = cgroups.peak_bytes(cgroup) if cgroup else polled
    wall = time.monotonic() - started
    container.reload()
    state = container.attrs["State"]
    exit_code = None if timed_out else int(state.get("ExitCode", -1))
    peak_mb = peak / 1024**2 if peak is not None else None
    oom = _oom_killed(state, exit_code, peak_mb, limits)
    if oom:
        # An OOM kill means usage reached the limit, whatever a poll may have missed.
        peak_mb = max(peak_mb or 0.0, float(limits.memory_mb))
    log, log_truncated = _log(container, limits)
    runtime = monitor.seconds_between(state.get("StartedAt", ""), state.get("FinishedAt", ""))
    result = RunResult(
        exit_code=exit_code,
        timed_out=timed_out,
        oom_killed=oom,
        runtime_s=runtime if runtime is not None else wall,
        peak_memory_mb=peak_mb,
        log=log,
        log_truncated=log_truncated,
        output_dir=output_dir,
    )
    logger.info(
        "sandbox %s exit=%s timeout=%s oom=%s %.2fs peak=%s MB",
        container.short_id,
        exit_code,
        timed_out,
        oom,
        result.runtime_s,
        None if peak_mb is None else round(peak_mb, 1),
    )
    return result


def _not_started(container: Container, exc: docker.errors.APIError, output_dir: Path) -> RunResult:
    logger.info("sandbox %s could not start: %s", container.short_id, exc.explanation)
    container.reload()
    return RunResult(
        exit_code=int(container.attrs["State"].get("ExitCode") or 0) or 127,
        timed_out=False,
        oom_killed=False,
        runtime_s=0.0,
        peak_memory_mb=None,
        log=START_ERROR + "\n",
        log_truncated=False,
        output_dir=output_dir,
        start_error=START_ERROR,
    )


def _start_poller(container: Container) -> monitor.MemoryPoller:
    container.reload()
    return monitor.MemoryPoller(container.id, container.attrs["State"].get("Pid")).start()


def _wait(container: Container, time_limit_s: float, started: float) -> bool:
    """Wait for the container to exit within the limit; SIGKILL it if not. True if it exited."""
    try:
        container.wait(timeout=time_limit_s)
        return True
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        # Over a Unix socket docker-py reports a read timeout as a ConnectionError; a
        # real connection failure arrives early and must propagate.
        if time.monotonic() - started < time_limit_s * 0.99:
            raise
    logger.info("sandbox %s exceeded %.1fs; killing it", container.short_id, time_limit_s)
    try:
        container.kill()
    except docker.errors.APIError as exc:
        # It may have exited between the timeout and the kill.
        logger.debug("kill of %s: %s", container.short_id, exc)
    container.wait(timeout=KILL_WAIT_S)
    return False


def _oom_killed(
    state: dict[str, Any], exit_code: int | None, peak_mb: float | None, limits: Limits
) -> bool:
    if state.get("OOMKilled"):
        return True
    if exit_code != OOM_EXIT_CODE or peak_mb is None:
        return False
    return peak_mb >= OOM_NEAR_LIMIT * limits.memory_mb


def _log(container: Container, limits: Limits) -> tuple[str, bool]:
    # One line more than the cap tells whether lines were cut.
    params = {"stdout": 1, "stderr": 1, "tail": limits.log_lines + 1}
    api = container.client.api
    # docker-py's logs() inspects the container first to learn whether it has a TTY; ours
    # never has one (hardening allocates none), so the log comes multiplexed, as read here.
    response = api._get(api._url("/containers/{0}/logs", container.id), params=params)
    raw = api._get_result_tty(False, response, False)
    return monitor.log_excerpt(raw, max_bytes=limits.log_bytes, max_lines=limits.log_lines)


def _remove(container: Container) -> None:
    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        # The reaper removes it later; an error here must not hide the run's own outcome.
        logger.exception("could not remove sandbox container %s", container.short_id)
