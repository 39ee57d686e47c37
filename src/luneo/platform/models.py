"""Platform tables: jobs, idempotency keys, audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from luneo.platform.database import Base, TenantMixin, TimestampMixin
from luneo.platform.ids import new_id


class Job(TimestampMixin, Base):
    """A background job; this row is the source of truth, the queue only carries its id."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("job"))
    key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    actor: Mapped[str] = mapped_column(sa.String(64), index=True)
    brand_id: Mapped[str | None] = mapped_column(sa.String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=4)
    progress: Mapped[float] = mapped_column(default=0.0)
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    deadline_at: Mapped[datetime | None] = mapped_column()
    # Renewed by the worker running the job; once past, the row is given back (worker lost).
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    worker_id: Mapped[str | None] = mapped_column(sa.String(80))
    error: Mapped[str | None] = mapped_column(sa.Text)
    result: Mapped[dict[str, Any] | None] = mapped_column()
    request_id: Mapped[str | None] = mapped_column(sa.String(80))
    duration_ms: Mapped[float | None] = mapped_column()

    __table_args__ = (sa.Index("ix_jobs_status_next_run", "status", "next_run_at"),)


class IdempotencyRecord(Base):
    """A stored response for an `Idempotency-Key`, scoped per credential, kept 24 h."""

    __tablename__ = "idempotency_keys"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("idem"))
    scope: Mapped[str] = mapped_column(sa.String(120))
    key: Mapped[str] = mapped_column(sa.String(255))
    method: Mapped[str] = mapped_column(sa.String(8))
    path: Mapped[str] = mapped_column(sa.String(500))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(12), default="in_flight")  # in_flight | done
    response_status: Mapped[int | None] = mapped_column()
    response_headers: Mapped[dict[str, Any] | None] = mapped_column()
    response_body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (sa.UniqueConstraint("scope", "key"),)


class AuditEvent(TenantMixin, Base):
    """Who did what to which resource, when."""

    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=lambda: new_id("aud"))
    actor: Mapped[str | None] = mapped_column(sa.String(80))
    action: Mapped[str] = mapped_column(sa.String(80))
    resource_type: Mapped[str] = mapped_column(sa.String(40))
    resource_id: Mapped[str] = mapped_column(sa.String(80), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_id: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[datetime] = mapped_column()
