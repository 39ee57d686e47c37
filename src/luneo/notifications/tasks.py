"""`send_email`: render an outbox row and hand it to the configured sender (retried)."""

from __future__ import annotations

from typing import Any

import structlog

from luneo.notifications.models import EmailMessage
from luneo.notifications.senders import Sender, sender_from_settings
from luneo.notifications.service import SEND_ACTOR, outgoing_email
from luneo.platform.clock import utcnow
from luneo.platform.config import Settings
from luneo.platform.jobs import JobContext, PermanentJobError, actor
from luneo.tenancy.public import Brand

log = structlog.get_logger("luneo.notifications")

_sender_override: Sender | None = None


def set_sender(sender: Sender | None) -> None:
    """Force a sender (tests, CLI `check-email`); None ⇒ chosen from the settings."""
    global _sender_override
    _sender_override = sender


def get_sender(settings: Settings) -> Sender:
    return _sender_override or sender_from_settings(settings)


@actor(SEND_ACTOR, time_limit_s=120, max_retries=3)
def send_email(ctx: JobContext) -> dict[str, Any]:
    """Send one outbox message; idempotent (a sent message is not sent again)."""
    message_id = str(ctx.payload["message_id"])
    with ctx.transaction(write=False) as s:
        message = s.get(EmailMessage, message_id)
        if message is None:
            raise PermanentJobError(f"email message {message_id} not found")
        if message.status == "sent":
            return {"status": "sent", "provider": message.provider, "provider_id": message.provider_id}
        brand = s.get(Brand, message.brand_id)
        if brand is None:
            raise PermanentJobError(f"brand {message.brand_id} not found")
        mail = outgoing_email(message, brand, ctx.db.settings)
    sender = get_sender(ctx.db.settings)
    try:
        sent = sender.send(mail)  # outside any transaction: no lock held during network I/O
    except Exception as exc:
        final = ctx.is_last_attempt or isinstance(exc, PermanentJobError)
        with ctx.transaction() as s:
            row = s.get(EmailMessage, message_id)
            if row is not None and row.status != "sent":
                row.attempts = ctx.attempt
                row.provider = sender.name
                row.error = f"{type(exc).__name__}: {exc}"[:2000]
                row.status = "failed" if final else "queued"
        log.warning(
            "email_send_failed",
            message_id=message_id,
            provider=sender.name,
            final=final,
            error=f"{type(exc).__name__}: {exc}",
        )
        raise
    with ctx.transaction() as s:
        row = s.get(EmailMessage, message_id)
        if row is not None:
            row.status = "sent"
            row.attempts = ctx.attempt
            row.provider = sent.provider
            row.provider_id = sent.provider_id
            row.sent_at = utcnow()
            row.error = None
    log.info("email_sent", message_id=message_id, provider=sent.provider)
    return {"status": "sent", "provider": sent.provider, "provider_id": sent.provider_id}
