"""Credential state on accounts (password changes, compromise), OpenID Connect providers and links.

Revision ID: p0002
Revises: p0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "p0002"
down_revision: str | Sequence[str] | None = "p0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "account",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
        schema="platform",
    )
    op.add_column(
        "account", sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True), schema="platform"
    )
    op.add_column(
        "account", sa.Column("compromised_since", sa.DateTime(timezone=True), nullable=True), schema="platform"
    )
    op.create_table(
        "oidc_provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("client_secret", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("(region_id IS NULL) <> (school_id IS NULL)", name=op.f("ck_oidc_provider_scope")),
        sa.ForeignKeyConstraint(["region_id"], ["platform.region.id"], name=op.f("fk_oidc_provider_region_id_region")),
        sa.ForeignKeyConstraint(["school_id"], ["platform.school.id"], name=op.f("fk_oidc_provider_school_id_school")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_provider")),
        schema="platform",
    )
    op.create_table(
        "oidc_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["platform.account.id"], name=op.f("fk_oidc_link_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_link")),
        sa.UniqueConstraint("issuer", "subject", name=op.f("uq_oidc_link_issuer_subject")),
        schema="platform",
    )
    op.create_index(
        op.f("ix_platform_oidc_link_account_id"), "oidc_link", ["account_id"], unique=False, schema="platform"
    )


def downgrade() -> None:
    raise NotImplementedError("platform migrations are forward-only; restore from backup to go back")
