"""Erasure reaches the audit log (R-SEC-5): personal fields of an erased person's entries may be removed, by the
audit service only (a transaction-local flag the trigger checks), leaving every other field — and the hashes — as
they were; such entries are marked `redacted_at` and verified by their links alone.

Revision ID: s0015
Revises: s0014
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0015"
down_revision: str | Sequence[str] | None = "s0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('journal.audit_redaction', true) = 'on'
       AND NEW.redacted_at IS NOT NULL
       AND (NEW.id, NEW.at, NEW.account_id, NEW.actor_label, NEW.action, NEW.entity, NEW.entity_key, NEW.reason,
            NEW.reverts_id, NEW.prev_hash, NEW.hash)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.account_id, OLD.actor_label, OLD.action, OLD.entity, OLD.entity_key, OLD.reason,
            OLD.reverts_id, OLD.prev_hash, OLD.hash) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
