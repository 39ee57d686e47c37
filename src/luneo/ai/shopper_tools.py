"""Shopper photo tools: background removal and smart crop for widget shoppers, when the brand allows.

Brand settings (`PATCH /brand`, `settings`, next to `require_design_approval`):

- `shopper_ai_tools`: the tools a shopper may use from the widget, a list
  (`["background_removal", "smart_crop"]`) or flags (`{"background_removal": true}`); absent or
  empty (the default): none, and every call is a 403 `shopper_tool_disabled`;
- `shopper_ai_daily_limit`: generations per shopper (`X-Shopper-Token`) per UTC day, default 10;
  beyond it a 429 `shopper_daily_limit` with `Retry-After` (seconds to the next UTC midnight).

A shopper's call is the brand's own AI operation (`service.submit`): the same ledger operation
and cost (`ai.background_removal`, `ai.smart_crop`; 402 `insufficient_credits` when short,
refunded on failure), recorded in `ai_generations` with the shopper's public id (`shp_…`, never
the token). The daily count is a count of those rows (failed ones excepted: they were refunded),
so it survives restarts and is shared by every process. The input must be the shopper's own
upload (or an output of their earlier tools): anything else answers 404, like a missing asset.
The output asset is granted to the shopper, so it can be used in their design.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from luneo.ai import service
from luneo.ai.error_codes import AIErrorCode
from luneo.ai.models import AIGeneration
from luneo.ai.schemas import BackgroundRemovalIn, GenerationOut, SmartCropIn
from luneo.catalog.public import shoppers
from luneo.platform.clock import utcnow
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.tenancy import get_or_404

ShopperTool = Literal["background_removal", "smart_crop"]
TOOLS: tuple[ShopperTool, ...] = ("background_removal", "smart_crop")
SETTING_TOOLS = "shopper_ai_tools"
SETTING_DAILY_LIMIT = "shopper_ai_daily_limit"
DEFAULT_DAILY_LIMIT = 10
MAX_DAILY_LIMIT = 1000


@dataclass(frozen=True)
class ShopperToolsConfig:
    """What the brand lets its widget shoppers use, and how often per day."""

    tools: tuple[ShopperTool, ...]
    daily_limit: int


def config_of(settings: dict[str, Any]) -> ShopperToolsConfig:
    """The shopper tools of a brand's settings JSON; anything malformed means "off"."""
    raw = settings.get(SETTING_TOOLS)
    if isinstance(raw, dict):
        enabled = {k for k, v in raw.items() if v is True}
    elif isinstance(raw, list):
        enabled = {v for v in raw if isinstance(v, str)}
    else:
        enabled = set()
    limit = settings.get(SETTING_DAILY_LIMIT, DEFAULT_DAILY_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int):
        limit = DEFAULT_DAILY_LIMIT
    limit = max(0, min(MAX_DAILY_LIMIT, limit))
    return ShopperToolsConfig(tuple(t for t in TOOLS if t in enabled), limit)


def brand_config(session: Session, brand_id: str) -> ShopperToolsConfig:
    """The shopper tools the brand of `brand_id` enabled."""
    return config_of(service.brand_settings(session, brand_id))


def _day_start() -> Any:
    return utcnow().replace(hour=0, minute=0, second=0, microsecond=0)


def seconds_to_reset() -> int:
    """Seconds until the daily counts start again (the next UTC midnight), at least 1."""
    now = utcnow()
    return max(1, int((_day_start() + timedelta(days=1) - now).total_seconds() + 0.999))


def used_today(session: Session, shopper: str) -> int:
    """How many tool calls the shopper (raw token) made today that were not refunded."""
    stmt = (
        select(func.count())
        .select_from(AIGeneration)
        .where(
            AIGeneration.shopper == shoppers.public_id(shopper),
            AIGeneration.created_at >= _day_start(),
            AIGeneration.status != "failed",
        )
    )
    return int(session.execute(stmt).scalar_one())


def remaining_today(session: Session, brand_id: str, shopper: str | None) -> int:
    """Calls left today for this shopper (the whole limit when the token is unknown)."""
    cfg = brand_config(session, brand_id)
    used = used_today(session, shopper) if shopper else 0
    return max(0, cfg.daily_limit - used)


def _grant_outputs(brand_id: str, shopper: str, out: GenerationOut) -> None:
    if out.status != "succeeded" or not out.outputs:
        return
    with service._tx(brand_id) as s:
        for o in out.outputs:
            shoppers.grant(s, shopper, "asset", o.asset_id)


def run(
    session: Session,
    brand_id: str,
    actor: str | None,
    shopper: str,
    tool: ShopperTool,
    asset_id: str,
    *,
    aspect_ratio: float | None = None,
    product_id: str | None = None,
    zone_key: str | None = None,
) -> GenerationOut:
    """Run one shopper tool on the shopper's own photo, metered to the brand (see the module doc).

    403 `shopper_tool_disabled`, 404 (not the shopper's asset), 429 `shopper_daily_limit`,
    then the brand route's own answers (402 `insufficient_credits`, 422 …)."""
    cfg = brand_config(session, brand_id)
    if tool not in cfg.tools:
        raise DomainError(
            AIErrorCode.SHOPPER_TOOL_DISABLED,
            f"The brand has not enabled {tool.replace('_', ' ')} for shoppers (setting {SETTING_TOOLS}).",
            tool=tool,
        )
    shoppers.require(session, shopper, "asset", asset_id, "asset")
    used = used_today(session, shopper)
    if used >= cfg.daily_limit:
        raise DomainError(
            AIErrorCode.SHOPPER_DAILY_LIMIT,
            f"This shopper used the photo tools {used} times today (limit {cfg.daily_limit}).",
            retry_after_s=seconds_to_reset(),
            limit=cfg.daily_limit,
        )
    body: BackgroundRemovalIn | SmartCropIn
    if tool == "background_removal":
        body = BackgroundRemovalIn(asset_id=asset_id)
    else:
        body = SmartCropIn(
            asset_id=asset_id, aspect_ratio=aspect_ratio, product_id=product_id, zone_key=zone_key
        )
    out = service.submit(session, brand_id, actor, tool, body, shopper=shoppers.public_id(shopper))
    _grant_outputs(brand_id, shopper, out)
    return out


def get(session: Session, brand_id: str, shopper: str, generation_id: str) -> GenerationOut:
    """One of the shopper's own tool calls (poll a 202); its output is granted once done.

    Another shopper's (or a brand's own) generation is a 404."""
    row = get_or_404(session, AIGeneration, generation_id, "generation")
    if row.shopper is None or row.shopper != shoppers.public_id(shopper):
        raise NotFoundError("generation", generation_id)
    out = service.get_generation(session, brand_id, generation_id)
    _grant_outputs(brand_id, shopper, out)
    return out
