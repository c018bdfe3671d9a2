"""session generations and team name keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:00:00
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _name_key(name: str) -> str:
    """``jiebang.names.name_key`` as it was when this revision was written (a migration
    does not import the application, whose rule may change later)."""
    text = " ".join(unicodedata.normalize("NFKC", name).split())
    return unicodedata.normalize("NFKC", text.casefold())


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )
    # Added with a default and made unique by an index: SQLite changes the table in
    # place then, rather than rebuilding it under the foreign keys that point at it.
    op.add_column(
        "teams", sa.Column("name_key", sa.String(length=400), server_default="", nullable=False)
    )

    # Teams named alike before this rule keep their names; the later ones get a key
    # of their own (suffixed with their id) so the new index holds.
    bind = op.get_bind()
    seen: set[tuple[int, str]] = set()
    rows = bind.execute(sa.text("SELECT id, challenge_id, name FROM teams ORDER BY id")).all()
    for team_id, challenge_id, name in rows:
        key = _name_key(name)
        if (challenge_id, key) in seen:
            key = f"{key}#{team_id}"
        seen.add((challenge_id, key))
        bind.execute(
            sa.text("UPDATE teams SET name_key = :key WHERE id = :id"), {"key": key, "id": team_id}
        )
    if bind.dialect.name != "sqlite":  # SQLite cannot drop a default in place; unused there
        op.alter_column("teams", "name_key", server_default=None)
    op.create_index(
        "uq_teams_challenge_id_name_key", "teams", ["challenge_id", "name_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_teams_challenge_id_name_key", table_name="teams")
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): a batch rebuild of teams trips the foreign keys.
        op.execute("ALTER TABLE teams DROP COLUMN name_key")
        op.execute("ALTER TABLE users DROP COLUMN session_generation")
        return
    op.drop_column("teams", "name_key")
    op.drop_column("users", "session_generation")
