"""faults of issue 10: outbox leases, stored inbound updates, retired occurrences

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op  # noqa: F401

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Each fix adds its own block below, under a comment naming it.


def downgrade() -> None:
    """Undo this revision."""
    # Each fix adds its own block below, in the reverse order of upgrade().
