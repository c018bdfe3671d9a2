"""Moved to ``jiebang_client.config`` (the client installs without the server)."""

from jiebang_client.config import DEFAULT_SERVER, config_path, forget, load, save, server, token

__all__ = ["DEFAULT_SERVER", "config_path", "forget", "load", "save", "server", "token"]
