"""talk: announcements, questions and answers, challenge revisions; a Chinese description

Revision ID: 0009t
Revises: 0008
Create Date: 2026-12-05 07:20:00
"""

import sqlalchemy as sa
from alembic import op

import jiebang.db

revision = "0009t"
down_revision = "0008"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _index(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    # The existing rows have no Chinese description: empty, read as "use the English".
    op.add_column(
        "challenges", sa.Column("description_md_zh", sa.Text(), nullable=False, server_default="")
    )
    op.create_table(
        "challenge_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", jiebang.db.UTCDateTime(timezone=True), nullable=False),
        _fk("challenge_revisions", "actor_id", "users"),
        _fk("challenge_revisions", "challenge_id", "challenges"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_revisions")),
        sa.UniqueConstraint(
            "challenge_id", "number", name=op.f("uq_challenge_revisions_challenge_id")
        ),
    )
    _index("challenge_revisions", "challenge_id")
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("emailed", sa.Boolean(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", jiebang.db.UTCDateTime(timezone=True), nullable=False),
        _fk("announcements", "author_id", "users"),
        _fk("announcements", "challenge_id", "challenges"),
        _fk("announcements", "revision_id", "challenge_revisions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    _index("announcements", "challenge_id", "created_at")
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", jiebang.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", jiebang.db.UTCDateTime(timezone=True), nullable=False),
        _fk("questions", "answered_by", "users"),
        _fk("questions", "asker_id", "users"),
        _fk("questions", "challenge_id", "challenges"),
        _fk("questions", "team_id", "teams"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    _index("questions", "asker_id", "challenge_id", "team_id")


def downgrade() -> None:
    op.drop_table("questions")
    op.drop_table("announcements")
    op.drop_table("challenge_revisions")
    op.drop_column("challenges", "description_md_zh")
