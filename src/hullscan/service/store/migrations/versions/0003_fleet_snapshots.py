"""fleet snapshots of the web dashboard

Revision ID: 0003_fleet_snapshots
Revises: 0002_harbor_scans
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_fleet_snapshots"
down_revision = "0002_harbor_scans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_snapshot",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("failing", sa.Integer(), nullable=False),
        sa.Column("warning", sa.Integer(), nullable=False),
        sa.Column("critical", sa.Integer(), nullable=False),
        sa.Column("high", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )


def downgrade() -> None:
    op.drop_table("fleet_snapshot")
