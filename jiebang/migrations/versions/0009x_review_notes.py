"""review notes and data dictionaries: an administrator's refusal or change request on a
challenge, with its comment; the sponsor's data dictionary for the data page

Revision ID: 0009x
Revises: 0008
Create Date: 2026-12-05 07:30:00
"""

import sqlalchemy as sa
from alembic import op

from jiebang.db import UTCDateTime

revision = "0009x"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no table copy: other tables' foreign keys point at challenges).
    op.add_column("challenges", sa.Column("review_decision", sa.String(20), nullable=True))
    op.add_column("challenges", sa.Column("review_note", sa.Text(), nullable=True))
    op.add_column(
        "challenges", sa.Column("review_note_at", UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column("challenges", sa.Column("data_dictionary", sa.JSON(), nullable=True))


def downgrade() -> None:
    for column in ("data_dictionary", "review_note_at", "review_note", "review_decision"):
        op.drop_column("challenges", column)
