"""The school's audit log: hash-chained, append-only for everyone the trigger binds (R-SEC-2).

The trigger refuses UPDATE, DELETE and TRUNCATE of `audit_log`. The table's owner or a superuser can still
disable it (ALTER TABLE … DISABLE TRIGGER, session_replication_role = replica): that is why every row also
carries a hash chain that `tenants audit-verify` recomputes. Run the application as a role that does not own
the tables and it cannot disable the trigger either.

`audit_log_head(schema)` takes the school's chain lock (a transaction-scoped advisory lock) and then reads the
last hash. Being VOLATILE, it reads with a snapshot taken after the lock is granted, so two writers can never
link to the same row; one round trip does both.

Revision ID: s0004
Revises: s0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "s0004"
down_revision: str | Sequence[str] | None = "s0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""

HEAD = """
CREATE FUNCTION audit_log_head(school_schema text, OUT prev_hash text, OUT at timestamptz, OUT isolation text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('journal.audit_log:' || school_schema, 0));
    EXECUTE format('SELECT hash FROM %I.audit_log ORDER BY id DESC LIMIT 1', school_schema) INTO prev_hash;
    at := now();
    isolation := current_setting('transaction_isolation');
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("entity", sa.String(length=63), nullable=False),
        sa.Column("entity_key", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("reverts_id", sa.BigInteger(), nullable=True),
        sa.Column("prev_hash", sa.CHAR(length=64), nullable=False),
        sa.Column("hash", sa.CHAR(length=64), nullable=False),
        sa.CheckConstraint("action in ('insert', 'update', 'delete')", name=op.f("ck_audit_log_action")),
        sa.ForeignKeyConstraint(["reverts_id"], ["audit_log.id"], name=op.f("fk_audit_log_reverts_id_audit_log")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("reverts_id", name=op.f("uq_audit_log_reverts_id")),
    )
    op.create_index(op.f("ix_audit_log_account_id_at"), "audit_log", ["account_id", "at"], unique=False)
    op.create_index(op.f("ix_audit_log_entity_entity_key"), "audit_log", ["entity", "entity_key"], unique=False)
    op.execute(APPEND_ONLY)
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(HEAD)


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
