"""join the parallel work of 0009: notifications, organizations, proposals, the queue's
index, registration, talk (announcements, questions, revisions) and review notes

Revision ID: 0010
Revises: 0009n, 0009o, 0009p, 0009q, 0009r, 0009t, 0009x
Create Date: 2026-12-05 08:10:00
"""

revision = "0010"
down_revision = ("0009n", "0009o", "0009p", "0009q", "0009r", "0009t", "0009x")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the branches touch different tables and columns."""


def downgrade() -> None:
    """Nothing to change."""
