"""designs: specs, snapshots (immutable spec, enforced by a trigger on PostgreSQL), saved designs

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import luneo.platform.database

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = luneo.platform.database.UTCDateTime(timezone=True)

IMMUTABLE_FN = """
CREATE OR REPLACE FUNCTION luneo_snapshot_spec_immutable() RETURNS trigger AS $$
BEGIN
  IF NEW.spec IS DISTINCT FROM OLD.spec OR NEW.spec_hash IS DISTINCT FROM OLD.spec_hash
     OR NEW.spec_id IS DISTINCT FROM OLD.spec_id OR NEW.brand_id IS DISTINCT FROM OLD.brand_id THEN
    RAISE EXCEPTION 'snapshot % spec is immutable', OLD.id USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
"""
SPEC_FN = """
CREATE OR REPLACE FUNCTION luneo_design_spec_immutable() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'design spec % is immutable', OLD.id USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;
"""


def upgrade() -> None:
    op.create_table(
        "design_specs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "brand_id",
            sa.String(40),
            sa.ForeignKey("brands.id", name="fk_design_specs_brand_id_brands"),
            nullable=False,
        ),
        sa.Column("spec_version", sa.String(12), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(40), nullable=False),
        sa.Column("canonical", sa.Text(), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("brand_id", "spec_hash", name="uq_design_specs_brand_id_spec_hash"),
    )
    op.create_index("ix_design_specs_brand_id", "design_specs", ["brand_id"])
    op.create_index("ix_design_specs_spec_hash", "design_specs", ["spec_hash"])
    op.create_index("ix_design_specs_product_id", "design_specs", ["product_id"])
    op.create_table(
        "snapshots",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "brand_id",
            sa.String(40),
            sa.ForeignKey("brands.id", name="fk_snapshots_brand_id_brands"),
            nullable=False,
        ),
        sa.Column(
            "spec_id",
            sa.String(40),
            sa.ForeignKey("design_specs.id", name="fk_snapshots_spec_id_design_specs"),
            nullable=False,
        ),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("product_id", sa.String(40), nullable=False),
        sa.Column("assets", JSON, nullable=False),
        sa.Column("provenance", JSON, nullable=False),
        sa.Column("created_by", sa.String(40)),
        sa.Column("validated_by", sa.String(40)),
        sa.Column("validated_at", TS),
        sa.Column("locked_by", sa.String(40)),
        sa.Column("locked_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("brand_id", "spec_hash", name="uq_snapshots_brand_id_spec_hash"),
    )
    for col in ("brand_id", "spec_id", "spec_hash", "product_id"):
        op.create_index(f"ix_snapshots_{col}", "snapshots", [col])
    op.create_table(
        "designs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "brand_id",
            sa.String(40),
            sa.ForeignKey("brands.id", name="fk_designs_brand_id_brands"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "spec_id",
            sa.String(40),
            sa.ForeignKey("design_specs.id", name="fk_designs_spec_id_design_specs"),
            nullable=False,
        ),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("product_id", sa.String(40), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("share_token", sa.String(64), unique=True),
        sa.Column("created_by", sa.String(40)),
        sa.Column("shopper_token", sa.String(80)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    for col in ("brand_id", "spec_id", "product_id", "shopper_token"):
        op.create_index(f"ix_designs_{col}", "designs", [col])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(IMMUTABLE_FN)
        op.execute(
            "CREATE TRIGGER snapshots_spec_immutable BEFORE UPDATE ON snapshots "
            "FOR EACH ROW EXECUTE FUNCTION luneo_snapshot_spec_immutable()"
        )
        op.execute(SPEC_FN)
        op.execute(
            "CREATE TRIGGER design_specs_immutable BEFORE UPDATE ON design_specs "
            "FOR EACH ROW EXECUTE FUNCTION luneo_design_spec_immutable()"
        )
    else:
        op.execute(
            "CREATE TRIGGER snapshots_spec_immutable BEFORE UPDATE OF spec, spec_hash, spec_id, brand_id "
            "ON snapshots BEGIN SELECT RAISE(ABORT, 'snapshot spec is immutable'); END"
        )
        op.execute(
            "CREATE TRIGGER design_specs_immutable BEFORE UPDATE ON design_specs "
            "BEGIN SELECT RAISE(ABORT, 'design spec is immutable'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS design_specs_immutable ON design_specs")
        op.execute("DROP FUNCTION IF EXISTS luneo_design_spec_immutable()")
        op.execute("DROP TRIGGER IF EXISTS snapshots_spec_immutable ON snapshots")
        op.execute("DROP FUNCTION IF EXISTS luneo_snapshot_spec_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS design_specs_immutable")
        op.execute("DROP TRIGGER IF EXISTS snapshots_spec_immutable")
    op.drop_table("designs")
    op.drop_table("snapshots")
    op.drop_table("design_specs")
