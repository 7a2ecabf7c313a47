"""Guests, the lobby and who may join: yoom_call_access, yoom_call_cohost, yoom_call_knock, yoom_guest.

Revision ID: b4e6f8a0c2d3
Revises: a3d5e7f9b1c2
Create Date: 2026-12-07 06:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b4e6f8a0c2d3"
down_revision: str | Sequence[str] | None = "a3d5e7f9b1c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString
_when = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "yoom_call_access",
        sa.Column("call_id", _str(length=64), nullable=False),
        sa.Column("who_may_join", _str(length=16), nullable=False),
        sa.Column("ask_to_join", sa.Boolean(), nullable=False),
        sa.Column("updated_by", _str(length=64), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("call_id"),
    )
    op.create_table(
        "yoom_call_cohost",
        sa.Column("call_id", _str(length=64), nullable=False),
        sa.Column("user_id", _str(length=64), nullable=False),
        sa.Column("made_by", _str(length=64), nullable=False),
        sa.Column("made_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", "user_id"),
    )
    op.create_table(
        "yoom_call_knock",
        sa.Column("call_id", _str(length=64), nullable=False),
        sa.Column("user_id", _str(length=64), nullable=False),
        sa.Column("name", _str(length=80), nullable=False),
        sa.Column("is_guest", sa.Boolean(), nullable=False),
        sa.Column("status", _str(length=16), nullable=False),
        sa.Column("knocked_at", _when(), nullable=False),
        sa.Column("decided_by", _str(length=64), nullable=True),
        sa.Column("decided_at", _when(), nullable=True),
        sa.PrimaryKeyConstraint("call_id", "user_id"),
    )
    op.create_index("ix_yoom_call_knock_knocked_at", "yoom_call_knock", ["knocked_at"])
    op.create_table(
        "yoom_guest",
        sa.Column("id", _str(length=64), nullable=False),
        sa.Column("token_hash", _str(length=64), nullable=False),
        sa.Column("name", _str(length=80), nullable=False),
        sa.Column("call_id", _str(length=64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_yoom_guest_token_hash", "yoom_guest", ["token_hash"], unique=True)
    op.create_index("ix_yoom_guest_call_id", "yoom_guest", ["call_id"])
    op.create_index("ix_yoom_guest_expires_at", "yoom_guest", ["expires_at"])


def downgrade() -> None:
    op.drop_table("yoom_guest")
    op.drop_table("yoom_call_knock")
    op.drop_table("yoom_call_cohost")
    op.drop_table("yoom_call_access")
