"""What other domains may use of notifications: queue an email in the caller's transaction, and
the catalogue of emails with their previews (the dashboard).

Other domains import `luneo.notifications.public`, never `.service` or `.models`
(import-linter contract `domains-through-public`).
"""

from __future__ import annotations

from luneo.notifications.catalogue import EMAILS, EmailSpec, email_spec
from luneo.notifications.i18n import SUPPORTED as EMAIL_LANGUAGES
from luneo.notifications.service import RenderedEmail, preview_email, queue_email

__all__ = [
    "EMAILS",
    "EMAIL_LANGUAGES",
    "EmailSpec",
    "RenderedEmail",
    "email_spec",
    "preview_email",
    "queue_email",
]
