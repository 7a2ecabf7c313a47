"""Sessions made from an identity provider's session (Clerk) remember that session's id.

Revision ID: 9c3e41d7a0b2
Revises: 6c8d2e3f4a51
Create Date: 2026-11-29 16:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "9c3e41d7a0b2"
down_revision: str | Sequence[str] | None = "6c8d2e3f4a51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("yoom_auth_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("provider_session_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("yoom_auth_session", schema=None) as batch_op:
        batch_op.drop_column("provider_session_id")
