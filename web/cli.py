"""The whole ``jiebang`` program: the lazy command table of every layer.

Each command is imported only when it is used, so `jiebang status 12` does not
load pandas, scikit-learn or the web app.
"""

from __future__ import annotations

from jiebang.cli import cli

cli.lazy.update(
    challenges="web.commands:challenges",
    worker="web.commands:worker",
    reconcile="web.commands:reconcile",
    # Replaces the core layer's chain-only check: the state check needs the boards.
    audit="web.commands:audit",
    serve="web.commands:serve",
    sandbox="sandboxes.cli:sandbox",
    demo="web.demo:demo",
    login="web.client:login",
    logout="web.client:logout",
    submit="web.client:submit",
    check="web.check:check",
    status="web.client:status",
    cancel="web.client:cancel",
    leaderboard="web.client:leaderboard",
    teams="web.client:teams",
    select="web.client:select",
    receipt="web.receipt_cli:receipt",
    keys="web.receipt_cli:keys",
    mail="web.mail_cli:mail",
)


def main() -> None:
    cli(prog_name="jiebang")


if __name__ == "__main__":
    main()
