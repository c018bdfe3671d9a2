"""``jiebang-client``: the client's commands alone, for a machine without the server."""

from __future__ import annotations

import click

from jiebang_client import __version__, commands


@click.group()
@click.version_option(__version__, message="%(version)s")
def main() -> None:
    """Jiebang's client: submit to a Jiebang server, follow results, manage a team;
    sponsors push and update drafts. Log in first: jiebang-client login."""


@main.group()
def challenges() -> None:
    """Sponsors: push, update, dry-run and send drafts for review."""


for command in (
    commands.login,
    commands.logout,
    commands.submit,
    commands.status,
    commands.cancel,
    commands.leaderboard,
    commands.teams,
    commands.select,
):
    main.add_command(command)
for command in (commands.push, commands.update, commands.request_review, commands.dry_run):
    challenges.add_command(command)


if __name__ == "__main__":
    main()
