"""registration: who may apply (round, applicants), terms, team organizations, registrations

Revision ID: 0009r
Revises: 0008
Create Date: 2026-12-05 07:30:00
"""

import sqlalchemy as sa
from alembic import op

from jiebang.db import UTCDateTime

revision = "0009r"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no table copy: other tables' foreign keys point at challenges).
    op.add_column("challenges", sa.Column("round_tag", sa.String(64), nullable=True))
    op.add_column("challenges", sa.Column("applicants", sa.JSON(), nullable=True))
    op.add_column("challenges", sa.Column("registration", sa.JSON(), nullable=True))
    op.add_column("challenges", sa.Column("terms_en", sa.Text(), nullable=False, server_default=""))
    op.add_column("challenges", sa.Column("terms_zh", sa.Text(), nullable=False, server_default=""))
    op.add_column(
        "challenges",
        sa.Column("terms_version", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_challenges_round_tag", "challenges", ["round_tag"])
    op.create_table(
        "team_organizations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), nullable=False),
        sa.Column("org_id", sa.Integer(), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("added_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("added_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.UniqueConstraint("team_id", "org_id", name="uq_team_organizations_team_id"),
    )
    op.create_index("ix_team_organizations_team_id", "team_organizations", ["team_id"])
    op.create_index("ix_team_organizations_org_id", "team_organizations", ["org_id"])
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("teams.id"), nullable=False),
        sa.Column("challenge_id", sa.Integer(), sa.ForeignKey("challenges.id"), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("terms_version", sa.Integer(), nullable=False),
        sa.Column("terms_accepted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("terms_accepted_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.UniqueConstraint("team_id", name="uq_registrations_team_id"),
    )
    op.create_index("ix_registrations_challenge_id", "registrations", ["challenge_id"])


def downgrade() -> None:
    op.drop_table("registrations")
    op.drop_table("team_organizations")
    op.drop_index("ix_challenges_round_tag", "challenges")
    # SQLite 3.35+ drops a column in place.
    for name in ("terms_version", "terms_zh", "terms_en", "registration", "applicants"):
        op.drop_column("challenges", name)
    op.drop_column("challenges", "round_tag")
