"""overdue chase, intake drafts and faster replies

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 00:05:00
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Each feature adds its own block below, under a comment naming it.

    # Idle tick: retirement notices look up recently retired units by date.
    op.create_index(op.f("ix_unit_retired_on"), "unit", ["retired_on"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    # Each feature undoes its block below, in reverse order.

    op.drop_index(op.f("ix_unit_retired_on"), table_name="unit")
