"""team bests and board versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 00:10:00
"""

import sqlalchemy as sa
from alembic import op

import jiebang.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Each team's best scored, non-re-run submission with a public score, earliest first on
# ties, and how many such submissions it has: evaluator.standings keeps this up to date.
# The registry's metrics where lower is better when this revision was written (a
# migration does not import the application, whose registry may change later).
LOWER_IS_BETTER = {"log_loss", "mae", "rmse"}

BACKFILL = """
INSERT INTO team_bests (team_id, challenge_id, submission_id, score, created_at,
                        runtime_s, peak_memory_mb, entries)
SELECT team_id, challenge_id, id, public_score, created_at, runtime_s, peak_memory_mb, entries
FROM (
    SELECT s.*,
           row_number() OVER (PARTITION BY s.team_id ORDER BY
               CASE WHEN :higher THEN -s.public_score ELSE s.public_score END,
               s.created_at, s.id) AS rn,
           count(*) OVER (PARTITION BY s.team_id) AS entries
    FROM submissions s
    WHERE s.challenge_id = :challenge AND s.status = 'scored'
      AND s.rerun_of_id IS NULL AND s.public_score IS NOT NULL
) ranked
WHERE rn = 1
"""


def upgrade() -> None:
    op.create_table(
        "team_bests",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", jiebang.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("runtime_s", sa.Float(), nullable=True),
        sa.Column("peak_memory_mb", sa.Float(), nullable=True),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["challenge_id"], ["challenges.id"]),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"]),
        sa.PrimaryKeyConstraint("team_id"),
    )
    with op.batch_alter_table("team_bests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_team_bests_challenge_id"), ["challenge_id"], unique=False
        )
    op.create_table(
        "board_versions",
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["challenge_id"], ["challenges.id"]),
        sa.PrimaryKeyConstraint("challenge_id"),
    )

    bind = op.get_bind()
    for challenge_id, metric in bind.execute(sa.text("SELECT id, metric FROM challenges")).all():
        higher = metric not in LOWER_IS_BETTER
        bind.execute(sa.text(BACKFILL), {"challenge": challenge_id, "higher": higher})


def downgrade() -> None:
    op.drop_table("board_versions")
    with op.batch_alter_table("team_bests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_bests_challenge_id"))
    op.drop_table("team_bests")
