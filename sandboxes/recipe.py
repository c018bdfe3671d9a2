"""Recipe labels: an image remembers what it was built from, so a changed recipe rebuilds it.

``jiebang sandbox build-base`` and ``build-scorer`` skip a tag that exists only
when its label matches the recipe in the code; otherwise an old image would
silently lack a package the code now promises.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import docker

RECIPE_LABEL = "jiebang.recipe"


def recipe_hash(*parts: Any) -> str:
    """A short stable digest of JSON-serialisable ``parts`` (lists, strings, numbers)."""
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def image_recipe(client: docker.DockerClient, tag: str) -> tuple[str | None, str | None]:
    """The id of the image tagged ``tag`` and its recipe label; ``(None, None)`` if absent."""
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None, None
    labels = (image.attrs.get("Config") or {}).get("Labels") or {}
    return image.id, labels.get(RECIPE_LABEL)
