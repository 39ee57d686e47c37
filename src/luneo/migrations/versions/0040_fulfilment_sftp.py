"""fulfilment: SFTP hand-off columns on fulfilment_targets (host, port, user, encrypted password /
private key, remote directory, pinned host key fingerprint)

Revision ID: 0040
Revises: 0037
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("sftp_host", sa.String(length=255)),
    ("sftp_port", sa.Integer()),
    ("sftp_username", sa.String(length=128)),
    ("sftp_password_enc", sa.Text()),
    ("sftp_key_enc", sa.Text()),
    ("sftp_dir", sa.String(length=1000)),
    ("sftp_host_key", sa.String(length=100)),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("fulfilment_targets", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fulfilment_targets") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
