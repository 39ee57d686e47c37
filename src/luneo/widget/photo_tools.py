"""Shopper photo tools in the widget: one-click background removal and smart crop.

Callable with the publishable key and the shopper's `X-Shopper-Token`, only when the brand
enabled the tool (`settings.shopper_ai_tools`; see `luneo.ai.shopper_tools`). Each call is the
brand's own metered AI operation (credits, refunds), limited per shopper and day
(`settings.shopper_ai_daily_limit`), on the shopper's own upload; the result is a new asset the
shopper owns. The generic `/ai/*` routes stay closed to publishable keys (`ai:use`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from luneo.ai import public as ai
from luneo.platform.auth import Tenant, guard

router = APIRouter(tags=["widget"])

# The AI service commits its own rows (metered): the request's session only reads.
PhotoToolsDep = Annotated[Tenant, guard("widget", write=False)]

RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted: poll GET /widget/photo-tools/generations/{id}."},
    402: {"description": "insufficient_credits: the brand's AI credits are spent."},
    403: {"description": "shopper_tool_disabled: the brand has not enabled this tool for shoppers."},
    404: {"description": "Not the shopper's own photo (or product)."},
    422: {"description": "shopper_token_required, not_an_image, invalid options."},
    429: {"description": "shopper_daily_limit (with Retry-After): the shopper's daily limit is used up."},
}


class PhotoToolsOut(BaseModel):
    """Which one-click tools the widget shows, and how many calls this shopper has left today."""

    tools: list[ai.ShopperTool]
    daily_limit: int
    remaining: int


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_id: str = Field(min_length=1, max_length=40, description="The shopper's own upload.")


class BackgroundRemovalToolIn(_In):
    pass


class SmartCropToolIn(_In):
    aspect_ratio: float | None = Field(default=None, ge=0.05, le=20, description="width / height")
    product_id: str | None = Field(default=None, max_length=40)
    zone_key: str | None = Field(
        default=None, max_length=64, description="Crop to this image zone's shape (with product_id)."
    )


class PhotoToolError(BaseModel):
    code: str
    message: str


class PhotoToolResult(BaseModel):
    """A shopper tool call: `asset_id` / `url` is the new photo once `status` is `succeeded`."""

    id: str
    tool: ai.ShopperTool
    status: Literal["pending", "processing", "succeeded", "failed"]
    asset_id: str | None = None
    url: str | None = None
    width_px: int | None = None
    height_px: int | None = None
    error: PhotoToolError | None = None


def _out(gen: ai.GenerationOut, response: Response | None = None) -> PhotoToolResult:
    image = next((o for o in gen.outputs if o.content_type.startswith("image/")), None)
    if response is not None and gen.status in ("pending", "processing"):
        response.status_code = 202
    width, height = gen.result.get("width"), gen.result.get("height")
    return PhotoToolResult(
        id=gen.id,
        tool=gen.operation,  # type: ignore[arg-type]
        status=gen.status,
        asset_id=image.asset_id if image else None,
        url=image.url if image else None,
        width_px=width if isinstance(width, int) else None,
        height_px=height if isinstance(height, int) else None,
        error=PhotoToolError(code=gen.error.code, message=gen.error.message) if gen.error else None,
    )


@router.get("/widget/photo-tools", response_model=PhotoToolsOut)
def photo_tools(t: PhotoToolsDep) -> PhotoToolsOut:
    """The tools the brand enabled for shoppers (the widget shows their buttons) and what is left today."""
    cfg = ai.brand_config(t.session, t.brand_id)
    shopper = t.shopper_token(required=False)
    remaining = ai.remaining_today(t.session, t.brand_id, shopper)
    return PhotoToolsOut(tools=list(cfg.tools), daily_limit=cfg.daily_limit, remaining=remaining)


@router.post(
    "/widget/photo-tools/background-removal",
    response_model=PhotoToolResult,
    responses=RESPONSES,
)
def background_removal(
    body: BackgroundRemovalToolIn, response: Response, t: PhotoToolsDep
) -> PhotoToolResult:
    """Cut the subject of the shopper's photo out (a transparent PNG): 202, then poll."""
    shopper = t.shopper_token(required=True) or ""
    gen = ai.run_shopper_tool(
        t.session, t.brand_id, t.principal.actor, shopper, "background_removal", body.asset_id
    )
    return _out(gen, response)


@router.post("/widget/photo-tools/smart-crop", response_model=PhotoToolResult, responses=RESPONSES)
def smart_crop(body: SmartCropToolIn, response: Response, t: PhotoToolsDep) -> PhotoToolResult:
    """Crop the shopper's photo around its subject to the zone's shape (`product_id` + `zone_key`)
    or to `aspect_ratio`."""
    shopper = t.shopper_token(required=True) or ""
    gen = ai.run_shopper_tool(
        t.session,
        t.brand_id,
        t.principal.actor,
        shopper,
        "smart_crop",
        body.asset_id,
        aspect_ratio=body.aspect_ratio,
        product_id=body.product_id,
        zone_key=body.zone_key,
    )
    return _out(gen, response)


@router.get("/widget/photo-tools/generations/{generation_id}", response_model=PhotoToolResult)
def photo_tool_generation(generation_id: str, t: PhotoToolsDep) -> PhotoToolResult:
    """One of the shopper's own tool calls (poll a 202 here); another shopper's is a 404."""
    shopper = t.shopper_token(required=True) or ""
    return _out(ai.get_shopper_generation(t.session, t.brand_id, shopper, generation_id))
