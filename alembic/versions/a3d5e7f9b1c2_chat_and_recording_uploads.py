"""In-call chat, and recordings uploaded in parts while they are made.

* yoom_chat_message: the chat of a meeting (either provider), read through the room channel only.
* yoom_recording_upload: a recording arriving in parts; finalised from what arrived when it stops.

Revision ID: a3d5e7f9b1c2
Revises: 12fe0028738f
Create Date: 2026-12-02 10:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a3d5e7f9b1c2"
down_revision: str | Sequence[str] | None = "12fe0028738f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "yoom_chat_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("yoom_chat_message", schema=None) as batch_op:
        batch_op.create_index("ix_yoom_chat_message_call_sent", ["call_id", "id"], unique=False)

    op.create_table(
        "yoom_recording_upload",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("call_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("last_part_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["yoom_local_call.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["yoom_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("yoom_recording_upload", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_yoom_recording_upload_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_yoom_recording_upload_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_yoom_recording_upload_last_part_at"), ["last_part_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("yoom_recording_upload", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_yoom_recording_upload_last_part_at"))
        batch_op.drop_index(batch_op.f("ix_yoom_recording_upload_created_by"))
        batch_op.drop_index(batch_op.f("ix_yoom_recording_upload_call_id"))
    op.drop_table("yoom_recording_upload")
    with op.batch_alter_table("yoom_chat_message", schema=None) as batch_op:
        batch_op.drop_index("ix_yoom_chat_message_call_sent")
    op.drop_table("yoom_chat_message")
