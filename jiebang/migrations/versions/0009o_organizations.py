"""organizations: kinds, legal names, credit codes, verification, sponsor requests,
organization administrators and invitations

Revision ID: 0009o
Revises: 0008
Create Date: 2026-12-05 07:30:00

Existing organizations become kind ``other`` with no code and ``unverified`` (nobody
checked their legal identity); their sponsor request is ``approved`` where they were
approved and ``pending`` otherwise. Each one's first member (lowest user id) becomes
its administrator.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009o"
down_revision = "0008"
branch_labels = None
depends_on = None

_ORG_COLUMNS = (
    "kind",
    "name_zh",
    "uscc",
    "verification",
    "verified_at",
    "verified_by",
    "review_note",
    "sponsor_request",
    "sponsor_note",
)


def upgrade() -> None:
    # Columns with defaults and a unique index instead of a constraint: SQLite adds them
    # in place rather than rebuilding the table under the foreign keys pointing at it.
    op.add_column(
        "organizations",
        sa.Column("kind", sa.String(length=24), server_default="other", nullable=False),
    )
    op.add_column(
        "organizations",
        sa.Column("name_zh", sa.String(length=200), server_default="", nullable=False),
    )
    op.add_column("organizations", sa.Column("uscc", sa.String(length=18), nullable=True))
    op.add_column(
        "organizations",
        sa.Column(
            "verification", sa.String(length=24), server_default="unverified", nullable=False
        ),
    )
    op.add_column(
        "organizations", sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("organizations", sa.Column("verified_by", sa.Integer(), nullable=True))
    op.add_column(
        "organizations", sa.Column("review_note", sa.Text(), server_default="", nullable=False)
    )
    op.add_column(
        "organizations", sa.Column("sponsor_request", sa.String(length=24), nullable=True)
    )
    op.add_column(
        "organizations", sa.Column("sponsor_note", sa.Text(), server_default="", nullable=False)
    )
    op.create_index("uq_organizations_uscc", "organizations", ["uscc"], unique=True)
    op.add_column(
        "users", sa.Column("org_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.execute(
        "UPDATE organizations SET sponsor_request = "
        "CASE WHEN approved THEN 'approved' ELSE 'pending' END"
    )
    op.execute(
        "UPDATE users SET org_admin = true WHERE id IN "
        "(SELECT MIN(id) FROM users WHERE org_id IS NOT NULL GROUP BY org_id)"
    )
    op.create_table(
        "org_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["users.id"], name=op.f("fk_org_invitations_invited_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_org_invitations_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_org_invitations_token_hash")),
    )
    op.create_index(op.f("ix_org_invitations_org_id"), "org_invitations", ["org_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_org_invitations_org_id"), table_name="org_invitations")
    op.drop_table("org_invitations")
    op.drop_index("uq_organizations_uscc", table_name="organizations")
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): a batch rebuild trips the foreign keys.
        op.execute("ALTER TABLE users DROP COLUMN org_admin")
        for column in _ORG_COLUMNS:
            op.execute(f"ALTER TABLE organizations DROP COLUMN {column}")
        return
    op.drop_column("users", "org_admin")
    for column in _ORG_COLUMNS:
        op.drop_column("organizations", column)
