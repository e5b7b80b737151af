"""escalation: CSR login attempts (login rate limiting), queue-order index on new tickets

Revision ID: escalation_0001
Revises: 0001_foundation
Create Date: 2026-11-26 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import accounts.db

revision: str = "escalation_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("escalation",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "csr_login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("at", accounts.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csr_login_attempts")),
    )
    with op.batch_alter_table("csr_login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_csr_login_attempts_username_at", ["username", "at"], unique=False)
        batch_op.create_index("ix_csr_login_attempts_address_at", ["address", "at"], unique=False)
    # claim_next walks new tickets in queue order (see accounts/models.py).
    op.create_index(
        "ix_tickets_new_queue_order",
        "tickets",
        ["priority", "due_at", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'new'"),
        sqlite_where=sa.text("status = 'new'"),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_new_queue_order", table_name="tickets")
    with op.batch_alter_table("csr_login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_csr_login_attempts_address_at")
        batch_op.drop_index("ix_csr_login_attempts_username_at")
    op.drop_table("csr_login_attempts")
