"""plan model, indicators and office documents: units, tasks, values

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Each feature adds its own block below, under a comment naming it.


def downgrade() -> None:
    """Undo this revision."""
    # Each feature adds its own block below, in the reverse order of upgrade().
