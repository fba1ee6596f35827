"""Platform registry, accounts, memberships, invites, outbox and platform audit.

Revision ID: p0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "p0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("platform_roles", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("login", name=op.f("uq_account_login")),
        schema="platform",
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        schema="platform",
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["id"],
        unique=False,
        schema="platform",
        postgresql_where=sa.text("dispatched_at IS NULL"),
    )
    op.create_table(
        "region",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region")),
        sa.UniqueConstraint("code", name=op.f("uq_region_code")),
        schema="platform",
    )
    op.create_table(
        "municipality",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["platform.region.id"], name=op.f("fk_municipality_region_id_region")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_municipality")),
        schema="platform",
    )
    op.create_index(
        op.f("ix_platform_municipality_region_id"), "municipality", ["region_id"], unique=False, schema="platform"
    )
    op.create_table(
        "school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("schema_name", sa.String(length=63), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("schema_revision", sa.String(length=64), nullable=True),
        sa.Column("migrated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_migration_error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("status_version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status in ('provisioning', 'active', 'suspended', 'archived')", name=op.f("ck_school_status")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"], ["platform.municipality.id"], name=op.f("fk_school_municipality_id_municipality")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school")),
        sa.UniqueConstraint("schema_name", name=op.f("uq_school_schema_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_school_slug")),
        schema="platform",
    )
    op.create_index(
        op.f("ix_platform_school_municipality_id"), "school", ["municipality_id"], unique=False, schema="platform"
    )
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["platform.school.id"], name=op.f("fk_invite_school_id_school")),
        sa.ForeignKeyConstraint(
            ["used_by_account_id"], ["platform.account.id"], name=op.f("fk_invite_used_by_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_invite_code_hash")),
        schema="platform",
    )
    op.create_index(op.f("ix_platform_invite_school_id"), "invite", ["school_id"], unique=False, schema="platform")
    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("roles", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["platform.account.id"], name=op.f("fk_membership_account_id_account")),
        sa.ForeignKeyConstraint(["school_id"], ["platform.school.id"], name=op.f("fk_membership_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("account_id", "school_id", name=op.f("uq_membership_account_id_school_id")),
        schema="platform",
    )
    op.create_index(
        op.f("ix_platform_membership_account_id"), "membership", ["account_id"], unique=False, schema="platform"
    )
    op.create_index(
        op.f("ix_platform_membership_school_id"), "membership", ["school_id"], unique=False, schema="platform"
    )
    op.create_table(
        "platform_audit",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["platform.school.id"], name=op.f("fk_platform_audit_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_audit")),
        schema="platform",
    )
    op.create_index(op.f("ix_platform_platform_audit_at"), "platform_audit", ["at"], unique=False, schema="platform")
    op.create_index(
        op.f("ix_platform_platform_audit_school_id"), "platform_audit", ["school_id"], unique=False, schema="platform"
    )


def downgrade() -> None:
    raise NotImplementedError("platform migrations are forward-only; restore from backup to go back")
