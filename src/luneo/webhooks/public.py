"""What other domains (and the dashboard) may use of webhooks: the event catalogue and the
endpoint use cases the JSON API calls.

Other domains import `luneo.webhooks.public`, never `.service` or `.models` (import-linter
contract `domains-through-public`). Domains do not call webhooks to emit: they publish their own
events on the platform bus and `luneo.webhooks.handlers` turns them into webhook events.
"""

from __future__ import annotations

from luneo.webhooks.events import EVENT_TYPES, PAYLOAD_VERSION
from luneo.webhooks.models import WebhookDelivery, WebhookEndpoint
from luneo.webhooks.service import (
    MAX_ATTEMPTS,
    SCHEDULE_S,
    create_endpoint,
    delete_endpoint,
    deliveries_query,
    get_endpoint,
    list_endpoints_query,
    replay_delivery,
    replay_failed,
    rotate_secret,
    update_endpoint,
)

__all__ = [
    "EVENT_TYPES",
    "MAX_ATTEMPTS",
    "PAYLOAD_VERSION",
    "SCHEDULE_S",
    "WebhookDelivery",
    "WebhookEndpoint",
    "create_endpoint",
    "delete_endpoint",
    "deliveries_query",
    "get_endpoint",
    "list_endpoints_query",
    "replay_delivery",
    "replay_failed",
    "rotate_secret",
    "update_endpoint",
]
