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

    # Plan intake in chat (handlers/plan_intake.py): a coordinator's pending draft.
    op.create_table(
        "plan_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("doubts", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_plan_draft_contact_id"), "plan_draft", ["contact_id"], unique=False)

    # A coordinator closes overdue work (handlers/closing.py): who, when and why.
    op.create_table(
        "closing",
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["occurrence_id"], ["occurrence.id"]),
        sa.PrimaryKeyConstraint("occurrence_id"),
    )


def downgrade() -> None:
    """Revert this revision."""
    # Each feature undoes its block below, in reverse order.

    # A coordinator closes overdue work.
    op.drop_table("closing")

    op.drop_index(op.f("ix_unit_retired_on"), table_name="unit")

    # Plan intake in chat.
    op.drop_index(op.f("ix_plan_draft_contact_id"), table_name="plan_draft")
    op.drop_table("plan_draft")
