"""Remove what a killed worker left behind: sandbox containers and scratch directories."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import docker
from docker.models.containers import Container

from sandboxes import cgroups, hardening, owner, scratch

logger = logging.getLogger(__name__)


def reap(client: docker.DockerClient, *, scratch_root: Path | None = None) -> int:
    """Remove leftover containers and scratch dirs under ``scratch_root``; count them.

    A container is left over when the worker that started it (same host) is
    gone, or when it is well past its time limit whoever owns it. Runs of live
    workers are left alone, so any worker may call this at start-up.
    """
    removed = 0
    # Sparse: no inspect per container, so one that vanishes meanwhile (another
    # worker's run ending) cannot break the listing.
    listed = client.containers.list(
        all=True, sparse=True, filters={"label": f"{hardening.LABEL}=1"}
    )
    for container in listed:
        if _is_leftover(container.attrs.get("Labels") or {}):
            removed += _remove(container)
    if scratch_root is not None:
        removed += scratch.reap(scratch_root)
    # Their containers are gone now, so the runs' parent cgroups can go too (not counted).
    cgroups.reap(owner.is_leftover_run)
    if removed:
        logger.warning("reaped %d sandbox leftovers", removed)
    return removed


def _is_leftover(labels: dict[str, str]) -> bool:
    try:
        deadline = float(labels.get(hardening.DEADLINE_LABEL, ""))
    except ValueError:
        return True
    if time.time() > deadline:
        return True
    same_host = labels.get(hardening.HOST_LABEL) == owner.host()
    return same_host and not owner.is_alive(labels.get(hardening.OWNER_LABEL, ""))


def _remove(container: Container) -> int:
    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        return 0
    logger.warning("removed leftover sandbox container %s", container.short_id)
    return 1
