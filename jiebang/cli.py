"""The root of the ``jiebang`` program, kept light so every command starts fast.

Commands are loaded lazily by name from ``cli.lazy`` ("module:attribute"); the
whole table is filled in ``web/cli.py``, which knows every layer. This module
imports nothing above ``jiebang``, and nothing heavy at import time.
"""

from __future__ import annotations

import importlib
import logging
from functools import cached_property

import click


class Runtime:
    """Settings and connections, made on first use by a command."""

    @cached_property
    def settings(self):
        from jiebang.settings import load_settings

        return load_settings()

    @cached_property
    def engine(self):
        from jiebang.db import make_engine

        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self):
        from jiebang.db import make_sessionmaker

        return make_sessionmaker(self.engine)

    def session(self):
        from jiebang.db import session_scope

        return session_scope(self.sessions)


pass_runtime = click.make_pass_decorator(Runtime, ensure=True)


class LazyGroup(click.Group):
    """Imports a command only when it runs (or help lists it); shows user-facing
    errors (``ServiceError``) as one line, not a traceback."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, _, attribute = self.lazy[name].partition(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        from jiebang.errors import ServiceError

        try:
            return super().invoke(ctx)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Jiebang (揭榜): winner-takes-all challenge competitions.

    Settings come from JIEBANG_* environment variables (JIEBANG_DATABASE_URL,
    JIEBANG_REDIS_URL, JIEBANG_DATA_DIR, JIEBANG_SECRET_KEY, JIEBANG_SANDBOX_RUNTIME,
    JIEBANG_DOCKER_HOST).
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.ensure_object(Runtime)


cli.lazy.update(
    db="jiebang.commands:db",
    users="jiebang.commands:users",
    orgs="jiebang.commands:orgs",
    audit="jiebang.commands:audit_group",
)
