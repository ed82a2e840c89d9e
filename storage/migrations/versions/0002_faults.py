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

    # Plans imported in batches: a new plan stays invisible until its last batch is written.
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("visible", sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    # Webhooks answer once the update is stored; the rows still to handle are resumed.
    op.create_index(
        "ix_inbound_unhandled",
        "inbound",
        ["channel", "id"],
        unique=False,
        sqlite_where=sa.text("handled_at IS NULL"),
        postgresql_where=sa.text("handled_at IS NULL"),
    )

    # Outbox leases: a claim lapses unless its live worker renews it, whatever the PID.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    """Undo this revision."""
    # Each fix adds its own block below, in the reverse order of upgrade().

    # Outbox leases.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("lease_until")

    # Webhooks answer once the update is stored.
    op.drop_index("ix_inbound_unhandled", table_name="inbound")

    # Plans imported in batches.
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("visible")
