"""Notifications of marks and attendance to parents (R-COM-2): each parent's settings (e-mail kept with consent,
frequency per channel, quiet hours), the mail queue with attempts and backoff, and the notifications of journal
events, unique per (outbox event, guardian).

Revision ID: s0014
Revises: s0013
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0014"
down_revision: str | Sequence[str] | None = "s0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notification_mail',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('guardian_id', sa.Integer(), nullable=False),
        sa.Column('mode', sa.String(length=8), nullable=False),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("mode in ('each', 'daily', 'weekly')", name=op.f('ck_notification_mail_mode')),
        sa.ForeignKeyConstraint(['guardian_id'], ['person.id'], name=op.f('fk_notification_mail_guardian_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_mail'))
    )
    op.create_index(op.f('ix_notification_mail_guardian_id'), 'notification_mail', ['guardian_id'], unique=False)
    op.create_index('ix_notification_mail_unsent', 'notification_mail', ['next_attempt_at'], unique=False, postgresql_where=sa.text('sent_at IS NULL'))
    op.create_table('notification_setting',
        sa.Column('guardian_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('email_consent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('email_frequency', sa.String(length=8), server_default='off', nullable=False),
        sa.Column('inapp_frequency', sa.String(length=8), server_default='each', nullable=False),
        sa.Column('quiet_from', sa.Time(), nullable=True),
        sa.Column('quiet_to', sa.Time(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("email_frequency in ('each', 'daily', 'weekly', 'off')", name=op.f('ck_notification_setting_email_frequency')),
        sa.CheckConstraint("inapp_frequency in ('each', 'daily', 'weekly', 'off')", name=op.f('ck_notification_setting_inapp_frequency')),
        sa.CheckConstraint('(quiet_from is null) = (quiet_to is null)', name=op.f('ck_notification_setting_quiet_hours')),
        sa.CheckConstraint('email is null or email_consent_at is not null', name=op.f('ck_notification_setting_consent')),
        sa.ForeignKeyConstraint(['guardian_id'], ['person.id'], name=op.f('fk_notification_setting_guardian_id_person')),
        sa.PrimaryKeyConstraint('guardian_id', name=op.f('pk_notification_setting'))
    )
    op.create_table('notification',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('guardian_id', sa.Integer(), nullable=False),
        sa.Column('student_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('inapp', sa.Boolean(), nullable=False),
        sa.Column('show_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('email_mode', sa.String(length=8), nullable=True),
        sa.Column('mail_id', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("email_mode is null or email_mode in ('each', 'daily', 'weekly')", name=op.f('ck_notification_email_mode')),
        sa.CheckConstraint("kind in ('mark', 'absence')", name=op.f('ck_notification_kind')),
        sa.ForeignKeyConstraint(['guardian_id'], ['person.id'], name=op.f('fk_notification_guardian_id_person')),
        sa.ForeignKeyConstraint(['mail_id'], ['notification_mail.id'], name=op.f('fk_notification_mail_id_notification_mail')),
        sa.ForeignKeyConstraint(['student_id'], ['person.id'], name=op.f('fk_notification_student_id_person')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
        sa.UniqueConstraint('event_id', 'guardian_id', name=op.f('uq_notification_event_id_guardian_id'))
    )
    op.create_index('ix_notification_digest', 'notification', ['guardian_id', 'created_at'], unique=False, postgresql_where=sa.text('email_mode IS NOT NULL AND mail_id IS NULL'))
    op.create_index('ix_notification_inbox', 'notification', ['guardian_id', 'show_at'], unique=False, postgresql_where=sa.text('inapp'))


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
