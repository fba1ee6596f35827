"""Parent access applications (R-DRY-4), consents to personal-data processing per item of the consent sheet with
erasure tasks after a revocation (R-SEC-5), and the support / password-recovery queue (R-COM-4).

Revision ID: s0013
Revises: s0012
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0013"
down_revision: str | Sequence[str] | None = "s0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('support_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=12), server_default='new', nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('account_id', sa.BigInteger(), nullable=True),
        sa.Column('login_given', sa.String(length=100), nullable=True),
        sa.Column('name_given', sa.String(length=300), nullable=True),
        sa.Column('contact', sa.String(length=254), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('handled_by_account_id', sa.BigInteger(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('password_reset_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind in ('support', 'password')", name=op.f('ck_support_request_kind')),
        sa.CheckConstraint("status <> 'done' OR answer IS NOT NULL", name=op.f('ck_support_request_answered')),
        sa.CheckConstraint("status in ('new', 'in_progress', 'done')", name=op.f('ck_support_request_status')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_support_request'))
        )
    op.create_index(op.f('ix_support_request_account_id'), 'support_request', ['account_id'], unique=False)
    op.create_index('ix_support_request_pending', 'support_request', ['created_at'], unique=False, postgresql_where=sa.text("status <> 'done'"))
    op.create_table('access_application',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('applicant_name', sa.String(length=300), nullable=False),
        sa.Column('contact_email', sa.String(length=254), nullable=True),
        sa.Column('contact_phone', sa.String(length=40), nullable=True),
        sa.Column('child_name', sa.String(length=300), nullable=False),
        sa.Column('child_class', sa.String(length=10), nullable=False),
        sa.Column('child_birth_date', sa.Date(), nullable=False),
        sa.Column('relationship', sa.String(length=40), nullable=False),
        sa.Column('documents', sa.Text(), nullable=False),
        sa.Column('registered_on', sa.Date(), nullable=False),
        sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('registered_by_account_id', sa.BigInteger(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=10), server_default='open', nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=True),
        sa.Column('guardian_id', sa.Integer(), nullable=True),
        sa.Column('invite_id', sa.BigInteger(), nullable=True),
        sa.Column('refusal_reason', sa.String(length=20), nullable=True),
        sa.Column('answer_text', sa.Text(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by_account_id', sa.BigInteger(), nullable=True),
        sa.CheckConstraint("(status = 'open') = (decided_at IS NULL)", name=op.f('ck_access_application_decided')),
        sa.CheckConstraint("(status = 'refused') = (refusal_reason IS NOT NULL)", name=op.f('ck_access_application_refused_with_reason')),
        sa.CheckConstraint("refusal_reason in ('not_guardian', 'not_student', 'adult', 'documents', 'withdrawn')", name=op.f('ck_access_application_refusal_reason')),
        sa.CheckConstraint("source in ('paper', 'online')", name=op.f('ck_access_application_source')),
        sa.CheckConstraint("status in ('open', 'approved', 'refused')", name=op.f('ck_access_application_status')),
        sa.ForeignKeyConstraint(['guardian_id'], ['person.id'], name=op.f('fk_access_application_guardian_id_person')),
        sa.ForeignKeyConstraint(['student_id'], ['person.id'], name=op.f('fk_access_application_student_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_application'))
        )
    op.create_index(op.f('ix_access_application_guardian_id'), 'access_application', ['guardian_id'], unique=False)
    op.create_index('ix_access_application_open', 'access_application', ['due_on'], unique=False, postgresql_where=sa.text("status = 'open'"))
    op.create_table('consent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('item_code', sa.String(length=10), nullable=False),
        sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('given_by_account_id', sa.BigInteger(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_account_id', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_consent_person_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent'))
        )
    op.create_index(op.f('ix_consent_person_id'), 'consent', ['person_id'], unique=False)
    op.create_index('ux_consent_active', 'consent', ['person_id', 'item_code'], unique=True, postgresql_where=sa.text('revoked_at IS NULL'))
    op.create_table('erasure_task',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('requested_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('created_by_account_id', sa.BigInteger(), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_by_account_id', sa.BigInteger(), nullable=True),
        sa.Column('summary', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_erasure_task_person_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_task'))
        )
    op.create_index(op.f('ix_erasure_task_person_id'), 'erasure_task', ['person_id'], unique=False)
    op.create_index('ux_erasure_task_open', 'erasure_task', ['person_id'], unique=True, postgresql_where=sa.text('done_at IS NULL'))


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
