"""AI routes under /api/v1/ai: image tools, generation, text-to-design, chat, and the history.

Every call needs `ai:use`, is metered by credits (refunded on failure) and answers a generation;
slow operations answer 202 `pending` and are polled at GET /ai/generations/{generation_id}.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from luneo.ai import service
from luneo.ai import tasks as _tasks  # noqa: F401  (registers the `ai_run` actor wherever routes enqueue it)
from luneo.ai.schemas import (
    BackgroundRemovalIn,
    ChatIn,
    ExtractColorsIn,
    GenerateIn,
    GenerationOut,
    Operation,
    SmartCropIn,
    Status,
    TextToDesignIn,
    UpscaleIn,
)
from luneo.platform.auth import Tenant
from luneo.platform.deps import AiSubmitDep, AiUseDep
from luneo.platform.pagination import Page

router = APIRouter(tags=["ai"])
PERMISSION = "ai:use"
RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": GenerationOut, "description": "Accepted: runs as a job; poll GET /ai/generations/{id}."},
    402: {"description": "insufficient_credits"},
    404: {"description": "The asset or product is not the brand's."},
    422: {"description": "prompt_rejected, invalid options or image."},
}


def _submit(t: Tenant, operation: str, body: Any, response: Response) -> GenerationOut:
    out = service.submit(t.session, t.brand_id, t.principal.actor, operation, body)
    if out.status in ("pending", "processing"):
        response.status_code = 202
    return out


@router.post("/ai/generate", response_model=GenerationOut, responses=RESPONSES)
def generate(body: GenerateIn, response: Response, t: AiSubmitDep) -> GenerationOut:
    """Generate an image from a prompt (local clipart composer, or the configured image provider: 202)."""
    return _submit(t, "generate", body, response)


@router.post("/ai/upscale", response_model=GenerationOut, responses=RESPONSES)
def upscale(body: UpscaleIn, response: Response, t: AiSubmitDep) -> GenerationOut:
    """Upscale an image ×2 (now) or ×4 (job, 202); `result.effective_dpi` at the source's print size."""
    return _submit(t, "upscale", body, response)


@router.post("/ai/background-removal", response_model=GenerationOut, responses=RESPONSES)
def background_removal(body: BackgroundRemovalIn, response: Response, t: AiSubmitDep) -> GenerationOut:
    """Cut out the subject into an RGBA PNG (job: 202, then poll)."""
    return _submit(t, "background_removal", body, response)


@router.post("/ai/extract-colors", response_model=GenerationOut, responses=RESPONSES)
def extract_colors(body: ExtractColorsIn, response: Response, t: AiSubmitDep) -> GenerationOut:
    """Dominant colours (`result.colors: [{hex, share, palette_match}]`), matched to a palette."""
    return _submit(t, "extract_colors", body, response)


@router.post("/ai/smart-crop", response_model=GenerationOut, responses=RESPONSES)
def smart_crop(body: SmartCropIn, response: Response, t: AiSubmitDep) -> GenerationOut:
    """Crop around the salient content to an aspect ratio (or a product image zone's)."""
    return _submit(t, "smart_crop", body, response)


@router.post("/ai/text-to-design", response_model=GenerationOut, responses=RESPONSES)
def text_to_design(body: TextToDesignIn, response: Response, t: AiSubmitDep) -> GenerationOut:
    """Turn a prompt into a DesignSpec checked by the rules engine (`result.spec`, `spec_hash`)."""
    return _submit(t, "text_to_design", body, response)


@router.post(
    "/ai/chat",
    response_model=GenerationOut,
    responses={**RESPONSES, 503: {"description": "ai_provider_not_configured"}},
)
def chat(body: ChatIn, response: Response, t: AiSubmitDep) -> GenerationOut:
    """Chat with the design assistant (needs a configured chat provider)."""
    return _submit(t, "chat", body, response)


@router.get("/ai/generations", response_model=Page[GenerationOut])
def list_generations(
    t: AiUseDep,
    operation: Operation | None = None,
    status: Status | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[GenerationOut]:
    """The brand's AI history, newest first."""
    return service.list_generations(t.session, operation=operation, status=status, cursor=cursor, limit=limit)


@router.get("/ai/generations/{generation_id}", response_model=GenerationOut)
def get_generation(generation_id: str, t: AiUseDep) -> GenerationOut:
    """One generation (poll this for 202 answers)."""
    return service.get_generation(t.session, t.brand_id, generation_id)
