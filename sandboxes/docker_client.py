"""A factory for Docker clients; nothing connects at import time."""

from __future__ import annotations

import docker

# Jiebang's own engine, started by scripts/start-engine.sh beside the host's (if any):
# no container networking, gVisor registered as ``runsc``.
DEFAULT_DOCKER_HOST = "unix:///run/jiebang/docker.sock"


def connect(docker_host: str = DEFAULT_DOCKER_HOST) -> docker.DockerClient:
    """Connect to the engine at ``docker_host`` (the ``JIEBANG_DOCKER_HOST`` setting).

    Never ``DOCKER_HOST`` or the Docker CLI's context: those name the engine a user
    builds with, which may have networking, and sandboxes must not land there by
    accident. ``version="auto"`` negotiates the API version, so the same code talks
    to the Engine 20.10 on the workers and to newer engines on developers' machines.
    """
    return docker.DockerClient(base_url=docker_host, version="auto")
