"""Sign-in tickets (the HttpOnly cookie is set by an HTTP route) and throttling by growing delays.

yoom_login_throttle's `window_started_at` / `locked_until` become `last_failure_at` / `not_before`:
a failure now costs a delay instead of a lock-out. Its rows are transient counters and are dropped.

Revision ID: 5b7c1d2e9f30
Revises: 2125bbd91e5a
Create Date: 2026-11-29 14:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "5b7c1d2e9f30"
down_revision: str | Sequence[str] | None = "2125bbd91e5a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "yoom_sign_in_ticket",
        sa.Column("ticket_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["yoom_user.id"]),
        sa.PrimaryKeyConstraint("ticket_hash"),
    )
    with op.batch_alter_table("yoom_sign_in_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_yoom_sign_in_ticket_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_yoom_sign_in_ticket_expires_at"), ["expires_at"], unique=False)

    op.execute("DELETE FROM yoom_login_throttle")
    with op.batch_alter_table("yoom_login_throttle", schema=None) as batch_op:
        batch_op.alter_column("window_started_at", new_column_name="last_failure_at")
        batch_op.alter_column("locked_until", new_column_name="not_before")


def downgrade() -> None:
    op.execute("DELETE FROM yoom_login_throttle")
    with op.batch_alter_table("yoom_login_throttle", schema=None) as batch_op:
        batch_op.alter_column("not_before", new_column_name="locked_until")
        batch_op.alter_column("last_failure_at", new_column_name="window_started_at")
    with op.batch_alter_table("yoom_sign_in_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_yoom_sign_in_ticket_expires_at"))
        batch_op.drop_index(batch_op.f("ix_yoom_sign_in_ticket_user_id"))
    op.drop_table("yoom_sign_in_ticket")
