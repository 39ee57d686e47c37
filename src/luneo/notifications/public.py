"""What other domains may use of notifications: queue an email in the caller's transaction.

Other domains import `luneo.notifications.public`, never `.service` or `.models`
(import-linter contract `domains-through-public`).
"""

from __future__ import annotations

from luneo.notifications.service import queue_email

__all__ = ["queue_email"]
