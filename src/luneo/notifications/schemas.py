"""API contract of the email outbox."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class EmailMessageOut(BaseModel):
    """An outbox message as the API shows it (the template context is not exposed)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    brand_id: str
    to: str
    template: str
    subject: str
    status: str
    attempts: int
    provider: str | None = None
    provider_id: str | None = None
    error: str | None = None
    sent_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
