"""submission.file_name: TEXT instead of VARCHAR(255)

A file name of 305 characters (a browser upload keeps any name) failed on PostgreSQL with
"value too long"; the name is shown to people, so it is kept whole. SQLite does not enforce
VARCHAR lengths, so only PostgreSQL (and other servers) change.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "submission", "file_name", type_=sa.Text(), existing_type=sa.String(255), existing_nullable=False
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "submission", "file_name", type_=sa.String(255), existing_type=sa.Text(), existing_nullable=False
        )
