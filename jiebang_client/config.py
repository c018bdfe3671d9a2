"""Where the command-line client keeps its server and token (file mode 600)."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_SERVER = "http://127.0.0.1:5000"


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "jiebang" / "client.json"


def load() -> dict:
    path = config_path()
    try:
        return json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def save(values: dict) -> Path:
    """Write the file readable by its owner only, whatever the umask."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(values, f, indent=2)
    os.chmod(path, 0o600)
    return path


def forget() -> None:
    config_path().unlink(missing_ok=True)


def server(explicit: str | None) -> str:
    return (explicit or load().get("server") or DEFAULT_SERVER).rstrip("/")


def token(explicit: str | None, server_url: str | None = None) -> str | None:
    """The explicit token, else the kept one, but only for the server it was issued by
    (``--server`` naming another server must not send it there)."""
    if explicit:
        return explicit
    saved = load()
    kept = (saved.get("server") or "").rstrip("/")
    if server_url is not None and kept != server_url.rstrip("/"):
        return None
    return saved.get("token")
