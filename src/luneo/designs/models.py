"""Design tables: canonical specs, immutable snapshots, saved designs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id


class DesignSpecRow(TenantMixin, Base):
    """A DesignSpec stored once per brand by its hash; never updated."""

    __tablename__ = "design_specs"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("spec"))
    spec_version: Mapped[str] = mapped_column(sa.String(12))
    spec_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    product_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    canonical: Mapped[str] = mapped_column(sa.Text)
    spec: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (sa.UniqueConstraint("brand_id", "spec_hash"),)


class Snapshot(TimestampMixin, TenantMixin, Base):
    """An immutable, lockable copy of a spec: what an order item is made from."""

    __tablename__ = "snapshots"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("snap"))
    spec_id: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("design_specs.id"), index=True)
    spec_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column()
    product_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    assets: Mapped[dict[str, Any]] = mapped_column(default=dict)  # preview/3D/AR/production refs
    provenance: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(sa.String(40))
    validated_by: Mapped[str | None] = mapped_column(sa.String(40))
    validated_at: Mapped[datetime | None] = mapped_column()
    locked_by: Mapped[str | None] = mapped_column(sa.String(40))
    locked_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (sa.UniqueConstraint("brand_id", "spec_hash"),)


class SavedDesign(TimestampMixin, TenantMixin, Base):
    """A named design a shopper or the AI saved; shareable read-only by token."""

    __tablename__ = "designs"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("dsg"))
    name: Mapped[str] = mapped_column(sa.String(200))
    spec_id: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("design_specs.id"), index=True)
    spec_hash: Mapped[str] = mapped_column(sa.String(64))
    product_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    source: Mapped[str] = mapped_column(sa.String(12), default="api")  # widget | ai | api
    share_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(40))
    shopper_token: Mapped[str | None] = mapped_column(sa.String(80), index=True)
    spec_row: Mapped[DesignSpecRow] = relationship(lazy="selectin", viewonly=True)


class SnapshotApproval(TenantMixin, Base):
    """A shopper's (or the brand's) approval of a snapshot's proof: who, when, which spec_hash.

    One row per (snapshot, approver): snapshots are shared by everyone who makes the same design,
    so one shopper's approval never stands for another's."""

    __tablename__ = "snapshot_approvals"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("apv"))
    snapshot_id: Mapped[str] = mapped_column(sa.String(40), sa.ForeignKey("snapshots.id"), index=True)
    spec_hash: Mapped[str] = mapped_column(sa.String(64))
    approved_by: Mapped[str] = mapped_column(sa.String(64))  # shp_… (shopper public id) or the actor
    approved_at: Mapped[datetime] = mapped_column()
    findings: Mapped[list[Any]] = mapped_column(default=list)  # warnings shown with the proof

    __table_args__ = (sa.UniqueConstraint("brand_id", "snapshot_id", "approved_by"),)
