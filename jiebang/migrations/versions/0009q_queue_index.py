"""the queue: an index for a queued submission's place (evaluator.queueing.ahead_of)

The place counts the submissions running and those queued before it, on every
challenge; the status page asks it every few seconds. By status, then id, it is a
short range of the index instead of a pass over every submission ever made.

Revision ID: 0009q
Revises: 0008
Create Date: 2026-12-05 07:40:00
"""

from alembic import op

revision = "0009q"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_submissions_status_id", "submissions", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_submissions_status_id", table_name="submissions")
