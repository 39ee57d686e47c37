"""What other domains (and the dashboard) may use of manufacturing: the work-order queue, its
transitions and check overrides, pack and bundle downloads, and the bulk CSV upload.

Other domains import `luneo.manufacturing.public`, never `.service`, `.models` or other internals
(import-linter contract `domains-through-public`). These are the calls the JSON API makes.
"""

from __future__ import annotations

from luneo.manufacturing.bulk import MAX_CSV_BYTES, RowError, bulk_job, check_csv, start_bulk
from luneo.manufacturing.models import WORK_ORDER_STATUSES, WorkOrder
from luneo.manufacturing.service import (
    TRANSITIONS,
    WORK_ORDER_STATUS_CHANGED,
    build_order_bundle,
    build_selection_bundle,
    cancel_order,
    get_work_order,
    history,
    list_work_orders,
    override_checks,
    pack_download,
    signed_url,
    transition,
    transition_many,
)

#: How long a signed pack or bundle URL lives (the API's `DOWNLOAD_TTL_S`).
DOWNLOAD_TTL_S = 3600

__all__ = [
    "DOWNLOAD_TTL_S",
    "MAX_CSV_BYTES",
    "TRANSITIONS",
    "WORK_ORDER_STATUSES",
    "WORK_ORDER_STATUS_CHANGED",
    "RowError",
    "WorkOrder",
    "build_order_bundle",
    "build_selection_bundle",
    "bulk_job",
    "cancel_order",
    "check_csv",
    "get_work_order",
    "history",
    "list_work_orders",
    "override_checks",
    "pack_download",
    "signed_url",
    "start_bulk",
    "transition",
    "transition_many",
]
