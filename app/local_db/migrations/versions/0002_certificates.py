"""certificates: those issued at this site, and the hub's signed lists kept here

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "issued_certificates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.Column("uvci", sa.String(length=80), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("dose_record_id", sa.Uuid(), nullable=False),
        sa.Column("dose_number", sa.Integer(), nullable=False),
        sa.Column("dose_ids", sa.JSON(), nullable=False),
        sa.Column("content_key", sa.String(length=64), nullable=False),
        sa.Column("signer_kid", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("qr_text", sa.Text(), nullable=False),
        sa.Column("supersedes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_issued_certificates_citizen_id_citizens")
        ),
        sa.ForeignKeyConstraint(
            ["dose_record_id"],
            ["dose_records.id"],
            name=op.f("fk_issued_certificates_dose_record_id_dose_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_certificates")),
        sa.UniqueConstraint("uvci", name=op.f("uq_issued_certificates_uvci")),
    )
    with op.batch_alter_table("issued_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issued_certificates_citizen_id_dose_number"),
            ["citizen_id", "dose_number"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_issued_certificates_content_key"), ["content_key"], unique=False
        )
    op.create_table(
        "certificate_lists",
        sa.Column(
            "kind",
            sa.Enum(
                "csca",
                "trust_list",
                "revocation_list",
                name="certificate_list_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_certificate_lists")),
    )


def downgrade() -> None:
    op.drop_table("certificate_lists")
    with op.batch_alter_table("issued_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_certificates_content_key"))
        batch_op.drop_index(batch_op.f("ix_issued_certificates_citizen_id_dose_number"))
    op.drop_table("issued_certificates")
