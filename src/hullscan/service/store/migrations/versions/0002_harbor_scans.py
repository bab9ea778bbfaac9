"""harbor scan requests

Revision ID: 0002_harbor_scans
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_harbor_scans"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harbor_scan",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=100), nullable=False),
        sa.Column("registry_url", sa.Text(), nullable=False),
        sa.Column("repository", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=255), nullable=True),
        sa.Column("mime_type", sa.String(length=255), nullable=True),
        sa.Column("media_types", sa.JSON(), nullable=False),
        sa.Column("authorization_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("queued", "finished", "failed", name="harborscanstatus",
                    native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["digest"], ["analysis.digest"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_harbor_scan_digest", "harbor_scan", ["digest"])


def downgrade() -> None:
    op.drop_index("ix_harbor_scan_digest", table_name="harbor_scan")
    op.drop_table("harbor_scan")
