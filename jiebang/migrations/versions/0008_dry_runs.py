"""dry runs: a sponsor's reference solution scored before review, on no team

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_NOT_NULL = "team_id INTEGER NOT NULL,"
_NULLABLE = "team_id INTEGER,"


def upgrade() -> None:
    op.add_column(
        "submissions",
        sa.Column("dry_run", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # A dry run belongs to no team: team_id NULL keeps it out of every query that
    # reads by team (quotas, the team page, team_bests, the boards' joins).
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_team_id(_NOT_NULL, _NULLABLE)
    else:
        op.alter_column("submissions", "team_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Dry runs have no team to fall back to: they go (the audit log keeps their record).
    op.execute("DELETE FROM submissions WHERE team_id IS NULL")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_team_id(_NULLABLE, _NOT_NULL)
    else:
        op.alter_column("submissions", "team_id", existing_type=sa.Integer(), nullable=False)
    op.drop_column("submissions", "dry_run")


def _sqlite_team_id(old: str, new: str) -> None:
    """Add or drop team_id's NOT NULL on SQLite, which has no ALTER COLUMN.

    A batch table copy is out: dropping ``submissions`` while ``team_bests`` and its
    own re-runs point at it fails SQLite's foreign keys. SQLite documents this edit
    of the stored schema for changes that leave the rows' bytes alone, dropping a
    NOT NULL among them (https://www.sqlite.org/lang_altertable.html, "Making Other
    Kinds Of Table Schema Changes"): rewrite the CREATE TABLE text, then bump
    schema_version so that every connection re-reads it.
    """
    bind = op.get_bind()
    query = sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'submissions'")
    sql = bind.execute(query).scalar_one()
    if old not in sql:
        raise RuntimeError(f"submissions.team_id is not declared as {old!r}: {sql}")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    try:
        bind.execute(
            sa.text(
                "UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'submissions'"
            ),
            {"sql": sql.replace(old, new, 1)},
        )
        bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    finally:
        bind.execute(sa.text("PRAGMA writable_schema = OFF"))
