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

    # Office-grade reports: what a unit's documents print (ký hiệu, signer, Party body).
    with op.batch_alter_table("unit", schema=None) as batch_op:
        text = sqlmodel.sql.sqltypes.AutoString
        batch_op.add_column(sa.Column("abbreviation", text(length=32), nullable=True))
        batch_op.add_column(sa.Column("signer", text(length=120), nullable=True))
        batch_op.add_column(
            sa.Column("party", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    # The plan model end to end: co-owners, partners, retired and merged units, group aliases,
    # the plan's own frame, a date given to an undated task, history across reorganisations.
    text = sqlmodel.sql.sqltypes.AutoString
    no_items = sa.text("'[]'")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into", text(length=32), nullable=True))
        batch_op.add_column(sa.Column("retired_on", sa.Date(), nullable=True))
    with op.batch_alter_table("unit_group", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("aliases", sa.JSON(), server_default=no_items, nullable=False)
        )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("implements", text(), nullable=True))
        batch_op.add_column(sa.Column("issued_note", text(), nullable=True))
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owners", sa.JSON(), server_default=no_items, nullable=False))
        batch_op.add_column(
            sa.Column("external_partners", sa.JSON(), server_default=no_items, nullable=False)
        )
        batch_op.add_column(
            sa.Column("partners_report", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("request", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("due_override", text(), nullable=True))
    op.execute(
        "UPDATE task SET owners = json_build_array(owner_code)"
        if _postgresql()
        else "UPDATE task SET owners = json_array(owner_code)"
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", text(length=16), server_default="owner", nullable=False)
        )
        batch_op.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
    with op.batch_alter_table("occurrence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("since", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("taken_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_occurrence_taken_from_id_unit", "unit", ["taken_from_id"], ["id"]
        )

    # Indicators collected in chat: a task's indicators, the values given per occurrence.
    op.create_table(
        "task_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("combine", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("measure", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("target_unit", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "code"),
    )
    op.create_index("ix_task_indicator_task_id", "task_indicator", ["task_id"], unique=False)
    op.create_table(
        "indicator_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True),
        sa.Column("whole", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["indicator_id"], ["task_indicator.id"]),
        sa.ForeignKeyConstraint(["occurrence_id"], ["occurrence.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_indicator_value_indicator_id", "indicator_value", ["indicator_id"], unique=False
    )
    op.create_index(
        "ix_indicator_value_occurrence",
        "indicator_value",
        ["occurrence_id", "indicator_id"],
        unique=False,
    )


def downgrade() -> None:
    """Undo this revision."""
    # Each feature adds its own block below, in the reverse order of upgrade().

    # Indicators collected in chat.
    op.drop_index("ix_indicator_value_occurrence", table_name="indicator_value")
    op.drop_index("ix_indicator_value_indicator_id", table_name="indicator_value")
    op.drop_table("indicator_value")
    op.drop_index("ix_task_indicator_task_id", table_name="task_indicator")
    op.drop_table("task_indicator")

    # The plan model end to end.
    with op.batch_alter_table("occurrence", schema=None) as batch_op:
        batch_op.drop_constraint("fk_occurrence_taken_from_id_unit", type_="foreignkey")
        batch_op.drop_column("taken_from_id")
        batch_op.drop_column("until")
        batch_op.drop_column("since")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_column("ended_on")
        batch_op.drop_column("starts_on")
        batch_op.drop_column("role")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_column("due_override")
        batch_op.drop_column("request")
        batch_op.drop_column("partners_report")
        batch_op.drop_column("external_partners")
        batch_op.drop_column("owners")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("issued_note")
        batch_op.drop_column("implements")
        batch_op.drop_column("until")
    with op.batch_alter_table("unit_group", schema=None) as batch_op:
        batch_op.drop_column("aliases")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("retired_on")
        batch_op.drop_column("merged_into")

    # Office-grade reports.
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("party")
        batch_op.drop_column("signer")
        batch_op.drop_column("abbreviation")


def _postgresql() -> bool:
    """Whether the migration runs on PostgreSQL (its JSON functions are named differently)."""
    return op.get_bind().dialect.name == "postgresql"
