"""School mail and surveys (R-COM-1, R-COM-3).

Mail: threads (personal or a class announcement), their participants, messages, per-recipient read marks and
attachments (bytes in S3). Surveys: the survey with its audience roles and classes, questions, options, one
response per person (unique) and its answers.

Revision ID: s0012
Revises: s0011
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "s0012"
down_revision: str | Sequence[str] | None = "s0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('audience_roles', postgresql.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('opens_on <= closes_on', name=op.f('ck_survey_dates')),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_survey_author_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey'))
    )
    op.create_index(op.f('ix_survey_author_id'), 'survey', ['author_id'], unique=False)
    op.create_table('mail_thread',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('class_unit_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind = 'announcement') = (class_unit_id is not null)", name=op.f('ck_mail_thread_announcement_class')),
    sa.CheckConstraint("kind in ('personal', 'announcement')", name=op.f('ck_mail_thread_kind')),
    sa.ForeignKeyConstraint(['class_unit_id'], ['class_unit.id'], name=op.f('fk_mail_thread_class_unit_id_class_unit')),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], name=op.f('fk_mail_thread_created_by_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_thread'))
    )
    op.create_table('survey_class',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('class_unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['class_unit_id'], ['class_unit.id'], name=op.f('fk_survey_class_class_unit_id_class_unit')),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_class_survey_id_survey')),
    sa.PrimaryKeyConstraint('survey_id', 'class_unit_id', name=op.f('pk_survey_class'))
    )
    op.create_table('survey_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('required', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.CheckConstraint("kind in ('single', 'multiple', 'text')", name=op.f('ck_survey_question_kind')),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_question_survey_id_survey')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_question'))
    )
    op.create_index(op.f('ix_survey_question_survey_id'), 'survey_question', ['survey_id'], unique=False)
    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_survey_response_person_id_person')),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_response_survey_id_survey')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
    sa.UniqueConstraint('survey_id', 'person_id', name=op.f('uq_survey_response_survey_id_person_id'))
    )
    op.create_index(op.f('ix_survey_response_survey_id'), 'survey_response', ['survey_id'], unique=False)
    op.create_table('mail_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['person.id'], name=op.f('fk_mail_message_author_id_person')),
    sa.ForeignKeyConstraint(['thread_id'], ['mail_thread.id'], name=op.f('fk_mail_message_thread_id_mail_thread')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_message'))
    )
    op.create_index(op.f('ix_mail_message_thread_id'), 'mail_message', ['thread_id'], unique=False)
    op.create_table('mail_participant',
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_mail_participant_person_id_person')),
    sa.ForeignKeyConstraint(['thread_id'], ['mail_thread.id'], name=op.f('fk_mail_participant_thread_id_mail_thread')),
    sa.PrimaryKeyConstraint('thread_id', 'person_id', name=op.f('pk_mail_participant'))
    )
    op.create_index(op.f('ix_mail_participant_person_id'), 'mail_participant', ['person_id'], unique=False)
    op.create_table('survey_option',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['survey_question.id'], name=op.f('fk_survey_option_question_id_survey_question')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_option'))
    )
    op.create_index(op.f('ix_survey_option_question_id'), 'survey_option', ['question_id'], unique=False)
    op.create_table('mail_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['mail_message.id'], name=op.f('fk_mail_attachment_message_id_mail_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_attachment'))
    )
    op.create_index(op.f('ix_mail_attachment_message_id'), 'mail_attachment', ['message_id'], unique=False)
    op.create_table('mail_recipient',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['mail_message.id'], name=op.f('fk_mail_recipient_message_id_mail_message')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_mail_recipient_person_id_person')),
    sa.PrimaryKeyConstraint('message_id', 'person_id', name=op.f('pk_mail_recipient'))
    )
    op.create_index(op.f('ix_mail_recipient_person_id'), 'mail_recipient', ['person_id'], unique=False)
    op.create_table('survey_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.CheckConstraint('(option_id is null) <> (text is null)', name=op.f('ck_survey_answer_option_or_text')),
    sa.ForeignKeyConstraint(['option_id'], ['survey_option.id'], name=op.f('fk_survey_answer_option_id_survey_option')),
    sa.ForeignKeyConstraint(['question_id'], ['survey_question.id'], name=op.f('fk_survey_answer_question_id_survey_question')),
    sa.ForeignKeyConstraint(['response_id'], ['survey_response.id'], name=op.f('fk_survey_answer_response_id_survey_response')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answer'))
    )
    op.create_index(op.f('ix_survey_answer_question_id'), 'survey_answer', ['question_id'], unique=False)
    op.create_index(op.f('ix_survey_answer_response_id'), 'survey_answer', ['response_id'], unique=False)


def downgrade() -> None:
    raise NotImplementedError("school migrations are forward-only; restore from backup to go back")
