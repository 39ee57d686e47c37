"""What other domains (and the dashboard) may use of webhooks: the event catalogue and the
endpoint use cases the JSON API calls, and the SSRF-guarded sender (`check_url`,
`resolve_checked`, `pinned_post`: resolve, check every address, connect to the checked one) that
fulfilment's hand-offs use too (one implementation of the rules).

Other domains import `luneo.webhooks.public`, never `.service` or `.models` (import-linter
contract `domains-through-public`). Domains do not call webhooks to emit: they publish their own
events on the platform bus and `luneo.webhooks.handlers` turns them into webhook events.
"""

from __future__ import annotations

from luneo.webhooks.error_codes import WebhooksErrorCode
from luneo.webhooks.events import EVENT_TYPES, PAYLOAD_VERSION
from luneo.webhooks.models import WebhookDelivery, WebhookEndpoint
from luneo.webhooks.service import (
    DEFAULT_OVERLAP_S,
    MAX_ATTEMPTS,
    MAX_OVERLAP_S,
    SCHEDULE_S,
    TEST_EVENT,
    create_endpoint,
    delete_endpoint,
    deliveries_query,
    get_delivery,
    get_endpoint,
    last_deliveries,
    list_endpoints_query,
    replay_delivery,
    replay_failed,
    rotate_secret,
    send_test_event,
    update_endpoint,
)
from luneo.webhooks.targets import Answer as PinnedAnswer
from luneo.webhooks.targets import Resolver, TargetRefused, check_url, resolve_checked, system_resolver
from luneo.webhooks.targets import post as pinned_post

__all__ = [
    "DEFAULT_OVERLAP_S",
    "EVENT_TYPES",
    "MAX_ATTEMPTS",
    "MAX_OVERLAP_S",
    "PAYLOAD_VERSION",
    "SCHEDULE_S",
    "TEST_EVENT",
    "PinnedAnswer",
    "Resolver",
    "TargetRefused",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhooksErrorCode",
    "check_url",
    "create_endpoint",
    "delete_endpoint",
    "deliveries_query",
    "get_delivery",
    "get_endpoint",
    "last_deliveries",
    "list_endpoints_query",
    "pinned_post",
    "replay_delivery",
    "replay_failed",
    "resolve_checked",
    "rotate_secret",
    "send_test_event",
    "system_resolver",
    "update_endpoint",
]
