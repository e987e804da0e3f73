"""Module training: its tables (prefixed training_).

Revision ID: 0009_training
Revises: 0008_ai_review
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0009_training"
down_revision: str | None = "0008_ai_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_target_group",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("family", sa.String(length=60), nullable=False),
        sa.Column("family_title", sa.JSON(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("from_action_plan", sa.Boolean(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_target_group")),
        sa.UniqueConstraint("key", name="uq_training_target_group_key"),
    )
    op.create_table(
        "training_curriculum",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("target_groups", sa.JSON(), nullable=False),
        sa.Column("partner_city_ids", sa.JSON(), nullable=False),
        sa.Column("toolbox_entry_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("published_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_training_curriculum_city_id_city"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_curriculum")),
    )
    with op.batch_alter_table("training_curriculum", schema=None) as batch_op:
        batch_op.create_index("ix_training_curriculum_city_id_created_at", ["city_id", "created_at"], unique=False)
    op.create_table(
        "training_matrix_cell",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("target_group_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("area", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_group_id"],
            ["training_target_group.id"],
            name=op.f("fk_training_matrix_cell_target_group_id_training_target_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_matrix_cell")),
        sa.UniqueConstraint("target_group_id", "area", name="uq_training_matrix_cell_group_area"),
    )
    op.create_table(
        "training_toolbox_entry",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("source_key", sa.String(length=100), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_training_toolbox_entry_city_id_city"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_toolbox_entry")),
        sa.UniqueConstraint("source", "source_key", name="uq_training_toolbox_entry_source_key"),
    )
    op.create_table(
        "training_curriculum_unit",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("curriculum_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("target_group", sa.String(length=60), nullable=False),
        sa.Column("area", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("learning_outcomes", sa.Text(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=False),
        sa.Column("materials", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["curriculum_id"],
            ["training_curriculum.id"],
            name=op.f("fk_training_curriculum_unit_curriculum_id_training_curriculum"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_curriculum_unit")),
    )
    with op.batch_alter_table("training_curriculum_unit", schema=None) as batch_op:
        batch_op.create_index("ix_training_curriculum_unit_curriculum_id", ["curriculum_id"], unique=False)
    op.create_table(
        "training_session",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("curriculum_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("trainers", sa.String(length=400), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("questionnaire_closed_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("feedback_actions", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_training_session_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["curriculum_id"],
            ["training_curriculum.id"],
            name=op.f("fk_training_session_curriculum_id_training_curriculum"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_session")),
    )
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.create_index("ix_training_session_city_id_starts_on", ["city_id", "starts_on"], unique=False)
    op.create_table(
        "training_participant",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("session_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("target_group", sa.String(length=60), nullable=False),
        sa.Column("waiting_list", sa.Boolean(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_session.id"],
            name=op.f("fk_training_participant_session_id_training_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_participant")),
        sa.UniqueConstraint("token", name="uq_training_participant_token"),
    )
    with op.batch_alter_table("training_participant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_participant_session_id_created_at", ["session_id", "created_at"], unique=False
        )
    op.create_table(
        "training_questionnaire_answer",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("session_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("liked", sa.Text(), nullable=False),
        sa.Column("improve", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_session.id"],
            name=op.f("fk_training_questionnaire_answer_session_id_training_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_questionnaire_answer")),
    )
    with op.batch_alter_table("training_questionnaire_answer", schema=None) as batch_op:
        batch_op.create_index("ix_training_questionnaire_answer_session_id", ["session_id"], unique=False)
    op.create_table(
        "training_self_assessment",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("target_group", sa.String(length=60), nullable=False),
        sa.Column("phase", sa.String(length=10), nullable=False),
        sa.Column("session_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("user_id", advanced_alchemy.types.GUID(length=16), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("own_levels", sa.JSON(), nullable=False),
        sa.Column("supervisor_levels", sa.JSON(), nullable=False),
        sa.Column("own_topics", sa.JSON(), nullable=False),
        sa.Column("supervisor_topics", sa.JSON(), nullable=False),
        sa.Column("completed_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_training_self_assessment_city_id_city"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_session.id"],
            name=op.f("fk_training_self_assessment_session_id_training_session"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["account_user.id"],
            name=op.f("fk_training_self_assessment_user_id_account_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_self_assessment")),
        sa.UniqueConstraint("token", name="uq_training_self_assessment_token"),
    )
    with op.batch_alter_table("training_self_assessment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_self_assessment_city_id_target_group", ["city_id", "target_group"], unique=False
        )
        batch_op.create_index(
            "ix_training_self_assessment_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "training_assessment_priority",
        sa.Column("id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("city_id", advanced_alchemy.types.GUID(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("weak_dimensions", sa.JSON(), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["city.id"], name=op.f("fk_training_assessment_priority_city_id_city"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_assessment_priority")),
        sa.UniqueConstraint("city_id", "year", name="uq_training_assessment_priority_city_year"),
    )


def downgrade() -> None:
    op.drop_table("training_assessment_priority")
    op.drop_table("training_toolbox_entry")
    op.drop_table("training_self_assessment")
    op.drop_table("training_questionnaire_answer")
    op.drop_table("training_participant")
    op.drop_table("training_session")
    op.drop_table("training_curriculum_unit")
    op.drop_table("training_curriculum")
    op.drop_table("training_matrix_cell")
    op.drop_table("training_target_group")
