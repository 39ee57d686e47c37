"""What other domains (and the dashboard) may use of fulfilment: the hand-off statuses of an
order, and the configuration use cases the JSON API calls (the dashboard page uses the same ones).

Other domains import `luneo.fulfilment.public`, never its internals (import-linter contract
`domains-through-public`)."""

from __future__ import annotations

from luneo.fulfilment.models import (
    FAILED,
    SFTP,
    UNMAPPED,
    Handoff,
    HandoffTarget,
    PrintfulConfig,
    PrintfulMapping,
)
from luneo.fulfilment.schemas import MappingIn, PrintfulConfigIn, SftpIn, TargetIn
from luneo.fulfilment.service import (
    delete_handoff_target,
    delete_mapping,
    handoff_target,
    list_mappings,
    order_handoffs,
    printful_config,
    recent_handoffs,
    register_printful_webhook,
    retry_handoffs,
    set_handoff_target,
    set_mapping,
    set_printful_config,
    webhook_url,
)

#: Hand-off statuses the brand can retry.
RETRYABLE = frozenset({FAILED, UNMAPPED})

__all__ = [
    "RETRYABLE",
    "SFTP",
    "Handoff",
    "HandoffTarget",
    "MappingIn",
    "PrintfulConfig",
    "PrintfulConfigIn",
    "PrintfulMapping",
    "SftpIn",
    "TargetIn",
    "delete_handoff_target",
    "delete_mapping",
    "handoff_target",
    "list_mappings",
    "order_handoffs",
    "printful_config",
    "recent_handoffs",
    "register_printful_webhook",
    "retry_handoffs",
    "set_handoff_target",
    "set_mapping",
    "set_printful_config",
    "webhook_url",
]
