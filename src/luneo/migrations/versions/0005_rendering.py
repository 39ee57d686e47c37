"""rendering: render_results (one row per render_id) and asset_variants (web copies of uploads)

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import luneo.platform.database

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
# snapshots/designs (0004) and assets (0003) are referenced by foreign key.
depends_on: str | Sequence[str] | None = ("0003", "0004")

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = luneo.platform.database.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "render_results",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "brand_id",
            sa.String(40),
            sa.ForeignKey("brands.id", name="fk_render_results_brand_id_brands"),
            nullable=False,
        ),
        sa.Column("render_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("options", JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("timings", JSON, nullable=False),
        sa.Column("outputs", JSON, nullable=False),
        sa.Column(
            "snapshot_id",
            sa.String(40),
            sa.ForeignKey(
                "snapshots.id", name="fk_render_results_snapshot_id_snapshots", ondelete="SET NULL"
            ),
        ),
        sa.Column(
            "design_id",
            sa.String(40),
            sa.ForeignKey("designs.id", name="fk_render_results_design_id_designs", ondelete="SET NULL"),
        ),
        sa.Column("job_id", sa.String(40)),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("charge_ref", sa.String(200)),
        sa.Column("requested_by", sa.String(80)),
        sa.Column("finished_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("brand_id", "render_id", name="uq_render_results_brand_id_render_id"),
        sa.CheckConstraint("kind in ('preview','final')", name="ck_render_results_kind"),
        sa.CheckConstraint(
            "status in ('pending','processing','success','failed')", name="ck_render_results_status"
        ),
    )
    for col in ("brand_id", "spec_hash", "snapshot_id", "design_id"):
        op.create_index(f"ix_render_results_{col}", "render_results", [col])
    op.create_table(
        "asset_variants",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "brand_id",
            sa.String(40),
            sa.ForeignKey("brands.id", name="fk_asset_variants_brand_id_brands"),
            nullable=False,
        ),
        sa.Column(
            "asset_id",
            sa.String(40),
            sa.ForeignKey("assets.id", name="fk_asset_variants_asset_id_assets", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("variant", sa.String(20), nullable=False),
        sa.Column(
            "derived_asset_id",
            sa.String(40),
            sa.ForeignKey("assets.id", name="fk_asset_variants_derived_asset_id_assets", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint(
            "brand_id", "asset_id", "variant", name="uq_asset_variants_brand_id_asset_id_variant"
        ),
    )
    for col in ("brand_id", "asset_id", "derived_asset_id"):
        op.create_index(f"ix_asset_variants_{col}", "asset_variants", [col])


def downgrade() -> None:
    op.drop_table("asset_variants")
    op.drop_table("render_results")
