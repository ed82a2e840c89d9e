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

    # The scheduler room: the digest's files are built when it is planned, before any claim;
    # an assignment's current period is one index seek for the digest's aggregate.
    op.create_table(
        "outbox_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_file_outbox_id", "outbox_file", ["outbox_id"], unique=False)
    op.create_index(
        "ix_occurrence_assignment_due", "occurrence", ["assignment_id", "due_date"], unique=False
    )


def downgrade() -> None:
    """Undo this revision."""
    # Each fix adds its own block below, in the reverse order of upgrade().

    # The scheduler room.
    op.drop_index("ix_occurrence_assignment_due", table_name="occurrence")
    op.drop_index("ix_outbox_file_outbox_id", table_name="outbox_file")
    op.drop_table("outbox_file")

    # Outbox leases.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("lease_until")

    # Webhooks answer once the update is stored.
    op.drop_index("ix_inbound_unhandled", table_name="inbound")

    # Plans imported in batches.
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("visible")
