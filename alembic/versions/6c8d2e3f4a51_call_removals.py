"""People the host removed from a meeting (either provider), kept out until let back in.

Revision ID: 6c8d2e3f4a51
Revises: 5b7c1d2e9f30
Create Date: 2026-11-29 15:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "6c8d2e3f4a51"
down_revision: str | Sequence[str] | None = "5b7c1d2e9f30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "yoom_call_removal",
        sa.Column("call_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("removed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("removed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("yoom_call_removal")
