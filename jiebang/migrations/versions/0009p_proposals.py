"""proposals (申报书): the challenge's proposal stage, proposals, reviewers, scores, shortlist

Revision ID: 0009p
Revises: 0008
Create Date: 2026-12-05 07:30:00
"""

import sqlalchemy as sa
from alembic import op

from jiebang.db import UTCDateTime

revision = "0009p"
down_revision = "0008"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    # Plain ADD COLUMN: a batch would copy and drop challenges, which its foreign keys
    # forbid on SQLite.
    op.add_column("challenges", sa.Column("proposal", sa.JSON(), nullable=True))
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("shortlisted", sa.Boolean(), nullable=True),
        _fk("proposals", "challenge_id", "challenges"),
        _fk("proposals", "team_id", "teams"),
        _fk("proposals", "uploaded_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("team_id", name=op.f("uq_proposals_team_id")),
    )
    op.create_index(op.f("ix_proposals_challenge_id"), "proposals", ["challenge_id"])
    op.create_table(
        "proposal_reviewers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("assigned_at", UTCDateTime(timezone=True), nullable=False),
        _fk("proposal_reviewers", "challenge_id", "challenges"),
        _fk("proposal_reviewers", "user_id", "users"),
        _fk("proposal_reviewers", "assigned_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_reviewers")),
        sa.UniqueConstraint(
            "challenge_id", "user_id", name=op.f("uq_proposal_reviewers_challenge_id")
        ),
    )
    op.create_index(
        op.f("ix_proposal_reviewers_challenge_id"), "proposal_reviewers", ["challenge_id"]
    )
    op.create_index(op.f("ix_proposal_reviewers_user_id"), "proposal_reviewers", ["user_id"])
    op.create_table(
        "proposal_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(40), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("scored_at", UTCDateTime(timezone=True), nullable=False),
        _fk("proposal_scores", "proposal_id", "proposals"),
        _fk("proposal_scores", "reviewer_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_scores")),
        sa.UniqueConstraint(
            "proposal_id", "reviewer_id", "criterion", name=op.f("uq_proposal_scores_proposal_id")
        ),
        sa.CheckConstraint("score >= 0 AND score <= 100", name=op.f("ck_proposal_scores_score")),
    )
    op.create_index(op.f("ix_proposal_scores_proposal_id"), "proposal_scores", ["proposal_id"])
    op.create_table(
        "shortlists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=False),
        _fk("shortlists", "challenge_id", "challenges"),
        _fk("shortlists", "decided_by", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shortlists")),
        sa.UniqueConstraint("challenge_id", name=op.f("uq_shortlists_challenge_id")),
    )


def downgrade() -> None:
    op.drop_table("shortlists")
    op.drop_index(op.f("ix_proposal_scores_proposal_id"), table_name="proposal_scores")
    op.drop_table("proposal_scores")
    op.drop_index(op.f("ix_proposal_reviewers_user_id"), table_name="proposal_reviewers")
    op.drop_index(op.f("ix_proposal_reviewers_challenge_id"), table_name="proposal_reviewers")
    op.drop_table("proposal_reviewers")
    op.drop_index(op.f("ix_proposals_challenge_id"), table_name="proposals")
    op.drop_table("proposals")
    op.drop_column("challenges", "proposal")
