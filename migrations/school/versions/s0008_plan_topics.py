"""Calendar-thematic plans: ordered topics per teaching-load item (R-JRN-8).

Revision ID: s0008
Revises: s0007
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0008"
down_revision: str | Sequence[str] | None = "s0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("teaching_load_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("hours", sa.SmallInteger(), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=True),
        sa.CheckConstraint("hours between 1 and 20", name=op.f("ck_plan_topic_hours")),
        sa.ForeignKeyConstraint(["teaching_load_id"], ["teaching_load.id"],
                                name=op.f("fk_plan_topic_teaching_load_id_teaching_load")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_topic")),
        sa.UniqueConstraint("teaching_load_id", "position", name=op.f("uq_plan_topic_teaching_load_id_position")),
    )
    op.create_index(op.f("ix_plan_topic_teaching_load_id"), "plan_topic", ["teaching_load_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
