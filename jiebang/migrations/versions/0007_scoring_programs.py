"""scoring programs: a challenge's scoring block, every metric per submission, the scorer's log

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite has had DROP COLUMN since 3.35): a batch would copy
    # and drop the table, which the foreign keys pointing at it forbid on SQLite.
    op.add_column("challenges", sa.Column("scoring", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":  # SQLite's INTEGER holds 64 bits already
        # Folders of test data run to gigabytes.
        op.alter_column(
            "challenge_files", "size", type_=sa.BigInteger(), existing_type=sa.Integer()
        )
    op.add_column("submissions", sa.Column("public_metrics", sa.JSON(), nullable=True))
    op.add_column("submissions", sa.Column("private_metrics", sa.JSON(), nullable=True))
    op.add_column(
        "submissions", sa.Column("scorer_log", sa.Text(), nullable=False, server_default="")
    )
    # A built-in scorer reports one metric: existing scores become that metric's values.
    bind = op.get_bind()
    subs = sa.table(
        "submissions",
        sa.column("id", sa.Integer),
        sa.column("challenge_id", sa.Integer),
        sa.column("public_score", sa.Float),
        sa.column("private_score", sa.Float),
        sa.column("public_metrics", sa.JSON),
        sa.column("private_metrics", sa.JSON),
    )
    challenges = sa.table("challenges", sa.column("id", sa.Integer), sa.column("metric", sa.String))
    metric_of = dict(bind.execute(sa.select(challenges.c.id, challenges.c.metric)).all())
    rows = bind.execute(
        sa.select(subs.c.id, subs.c.challenge_id, subs.c.public_score, subs.c.private_score).where(
            sa.or_(subs.c.public_score.is_not(None), subs.c.private_score.is_not(None))
        )
    ).all()
    for row in rows:
        name = metric_of[row.challenge_id]
        bind.execute(
            subs.update()
            .where(subs.c.id == row.id)
            .values(
                public_metrics=None if row.public_score is None else {name: row.public_score},
                private_metrics=None if row.private_score is None else {name: row.private_score},
            )
        )


def downgrade() -> None:
    for column in ("scorer_log", "private_metrics", "public_metrics"):
        op.drop_column("submissions", column)
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "challenge_files", "size", type_=sa.Integer(), existing_type=sa.BigInteger()
        )
    op.drop_column("challenges", "scoring")
