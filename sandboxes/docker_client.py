"""A factory for Docker clients; nothing connects at import time."""

from __future__ import annotations

import docker


def connect(base_url: str | None = None) -> docker.DockerClient:
    """Connect to the Docker engine at ``base_url``, or the one the environment names.

    ``version="auto"`` negotiates the API version, so the same code talks to the
    Engine 20.10 on the workers and to newer engines on developers' machines.
    """
    if base_url:
        return docker.DockerClient(base_url=base_url, version="auto")
    return docker.from_env(version="auto")
