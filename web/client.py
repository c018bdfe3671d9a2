"""The command-line client, now the ``jiebang_client`` package (it installs without the
server: ``pip install ./client``); these names stay for the server's own modules."""

from __future__ import annotations

from jiebang_client.api import CHUNK, FINAL, Client, FileBody, server_option, token_option
from jiebang_client.commands import (
    cancel,
    dry_run,
    format_board,
    leaderboard,
    login,
    logout,
    push,
    request_review,
    select,
    status,
    submit,
    teams,
    update,
)
from jiebang_client.files import prepare_upload

__all__ = [
    "CHUNK",
    "FINAL",
    "Client",
    "FileBody",
    "cancel",
    "dry_run",
    "format_board",
    "leaderboard",
    "login",
    "logout",
    "prepare_upload",
    "push",
    "request_review",
    "select",
    "server_option",
    "status",
    "submit",
    "teams",
    "token_option",
    "update",
]
