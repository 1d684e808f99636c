"""dashboards and tiles: Dashboards and their tiles.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables exactly as the hand-written migration 2 did (explicit, never from schema.py)."""
    op.create_table(
        "dashboards",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=True),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace", "name", name="uq_dashboard"),
    )
    op.create_index(op.f("ix_dashboards_workspace"), "dashboards", ["workspace"], unique=False)
    op.create_table(
        "tiles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace", sa.String(length=80), nullable=False),
        sa.Column("dashboard_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(length=80), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("alert", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["dashboard_id"], ["dashboards.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_tiles_dashboard_id"), "tiles", ["dashboard_id"], unique=False)
    op.create_index(op.f("ix_tiles_workspace"), "tiles", ["workspace"], unique=False)


def downgrade() -> None:
    """Drop the tables this revision created (their indexes go with them)."""
    op.drop_table("tiles")
    op.drop_table("dashboards")
