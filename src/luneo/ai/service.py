"""AI use cases: check, meter, record and run each operation; the generation history.

Every call follows the same path:

1. read the brand's settings, check the input asset / product belong to the brand (404
   otherwise), moderate prompts (422 `prompt_rejected`) and pick the provider — nothing is
   charged yet;
2. reserve the operation's credits (`usage:<gen_id>`, its own committed transaction; 402 when
   short) and insert the `ai_generations` row — with its `ai_run` job for slow operations
   (background removal, upscale ×4, generate through a remote provider), which answer 202;
3. run (here, or in the job) and store outputs as `derived` assets through the catalog; on
   failure the row is marked failed and the credits are refunded in the same transaction
   (a job refunds only when it fails for good: last attempt, or an error retrying cannot fix).

The route's own session is only used for reads: writes go through short transactions of their
own so the SQLite write lock is never held across a reservation, a refund or a provider call.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from luneo.ai import local, planner
from luneo.ai import providers as prov
from luneo.ai.error_codes import AIErrorCode
from luneo.ai.local.trace import to_svg
from luneo.ai.models import AIGeneration
from luneo.ai.moderation import ensure_allowed
from luneo.ai.schemas import (
    ChatIn,
    ErrorOut,
    GenerateIn,
    GenerationOut,
    OutputOut,
    TextToDesignIn,
)
from luneo.catalog import public as catalog
from luneo.catalog.public import Asset, Product
from luneo.credits import public as credits
from luneo.credits.public import metering
from luneo.design.model import ProductDef
from luneo.platform.clock import utcnow
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.domain_errors import DomainError
from luneo.platform.ids import new_id
from luneo.platform.jobs import enqueue
from luneo.platform.pagination import Page, paginate
from luneo.platform.tenancy import bind_tenant, get_or_404
from luneo.tenancy.public import Brand

log = structlog.get_logger("luneo.ai")

JOB_ACTOR = "ai_run"
COST_OPERATION = {
    "generate": "ai.generate",
    "upscale": "ai.upscale",
    "background_removal": "ai.background_removal",
    "extract_colors": "ai.extract_colors",
    "smart_crop": "ai.smart_crop",
    "text_to_design": "ai.text_to_design",
    "chat": "ai.chat",
}
VECTOR_METHODS = ("engrave", "laser_cut")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
CHAT_SYSTEM = (
    "You are the design assistant of {brand}, a shop selling personalised products. Help the user choose a "
    "product, wording, font and colours. Answer briefly, in the user's language. Products:\n{catalogue}"
)
PLAN_SYSTEM = (
    "You turn a customer's request into a personalisation plan for one of these products. "
    "Use exactly the words the customer wants written as `text`; choose the zone, a font id and a "
    "#rrggbb colour.\n{catalogue}"
)


# --------------------------------------------------------------------------- plumbing


@contextmanager
def _tx(brand_id: str, *, write: bool = True) -> Iterator[Session]:
    with get_db().transaction(write=write) as s:
        bind_tenant(s, brand_id)
        yield s


@dataclass
class Output:
    """Bytes to store as a derived asset, and the key naming it in the result."""

    data: bytes
    content_type: str
    role: str
    width: int | None = None
    height: int | None = None


@dataclass
class Outcome:
    outputs: list[Output] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    finalize: Callable[[Session], dict[str, Any]] | None = None  # runs in the finishing transaction


@dataclass
class Prepared:
    """What step 1 decided: provider, model, whether it runs as a job, and the row's fields."""

    operation: str
    provider: str
    model: str
    run_as_job: bool
    prompt: str | None = None
    product_id: str | None = None
    input_asset_ids: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


def brand_settings(session: Session, brand_id: str) -> dict[str, Any]:
    brand = session.get(Brand, brand_id)
    return dict(brand.settings or {}) if brand is not None else {}


def brand_palette(settings: dict[str, Any]) -> list[str]:
    raw = settings.get("palette") or []
    return [c.lower() for c in raw if isinstance(c, str) and _HEX.match(c)] if isinstance(raw, list) else []


def _product_def(session: Session, product_id: str) -> ProductDef:
    return catalog.product_def(session, product_id)


def _check_asset(session: Session, asset_id: str) -> Asset:
    asset = get_or_404(session, Asset, asset_id, "asset")
    if not asset.content_type.startswith("image/") or asset.content_type == "image/svg+xml":
        raise DomainError(
            AIErrorCode.NOT_AN_IMAGE,
            "The asset is not a raster image (PNG, JPEG or WebP).",
            asset_id=asset_id,
        )
    return asset


def provider_not_configured() -> DomainError:
    return DomainError(
        AIErrorCode.AI_PROVIDER_NOT_CONFIGURED,
        "No chat provider is configured. Set LUNEO_OPENAI_API_KEY or LUNEO_ANTHROPIC_API_KEY (or "
        "LUNEO_GROQ_API_KEY, LUNEO_GOOGLE_API_KEY, LUNEO_AI_OLLAMA_BASE_URL).",
        settings=[
            "LUNEO_OPENAI_API_KEY",
            "LUNEO_ANTHROPIC_API_KEY",
            "LUNEO_GROQ_API_KEY",
            "LUNEO_GOOGLE_API_KEY",
            "LUNEO_AI_OLLAMA_BASE_URL",
        ],
    )


def _model_of(provider: Any, attr: str) -> str:
    return str(getattr(provider, attr, "") or "unknown")


# --------------------------------------------------------------------------- step 1: prepare


def prepare(session: Session, brand_id: str, operation: str, body: Any) -> Prepared:
    """Validate ownership, moderate and choose the provider; raises before anything is charged."""
    settings = brand_settings(session, brand_id)
    if operation == "generate":
        assert isinstance(body, GenerateIn)
        ensure_allowed([body.prompt], settings)
        vectorize = body.vectorize
        if body.product_id:
            vectorize = (
                vectorize or _product_def(session, body.product_id).production_method in VECTOR_METHODS
            )
        gen = prov.image_generator(settings)
        return Prepared(
            operation,
            gen.name,
            _model_of(gen, "image_model"),
            gen.name != "local",
            body.prompt,
            body.product_id,
            [],
            {"size": body.size, "seed": body.seed, "vectorize": vectorize},
        )
    if operation in ("upscale", "background_removal", "extract_colors", "smart_crop"):
        _check_asset(session, body.asset_id)
        product_id = getattr(body, "product_id", None)
        options = body.model_dump(exclude={"asset_id", "product_id"})
        if product_id:
            pdef = _product_def(session, product_id)
            if operation == "smart_crop" and body.zone_key:
                zone = next((z for z in pdef.zones if z.key == body.zone_key), None)
                if zone is None:
                    raise DomainError(AIErrorCode.UNKNOWN_ZONE, f"The product has no zone {body.zone_key!r}.")
                options["aspect_ratio"] = zone.geometry.width_mm / zone.geometry.height_mm
        if operation == "smart_crop" and options.get("aspect_ratio") is None:
            raise DomainError(AIErrorCode.ASPECT_REQUIRED, "Give aspect_ratio, or product_id and zone_key.")
        if operation == "upscale":
            up = prov.upscaler(settings)
            return Prepared(
                operation,
                up.name,
                _model_of(up, "upscale_model"),
                body.factor == 4,
                None,
                None,
                [body.asset_id],
                options,
            )
        if operation == "background_removal":
            bg = prov.background_remover(settings)
            return Prepared(
                operation,
                bg.name,
                _model_of(bg, "background_model"),
                True,
                None,
                None,
                [body.asset_id],
                options,
            )
        model = "kmeans-lab" if operation == "extract_colors" else "saliency"
        return Prepared(operation, "local", model, False, None, product_id, [body.asset_id], options)
    if operation == "text_to_design":
        assert isinstance(body, TextToDesignIn)
        ensure_allowed([body.prompt], settings)
        if body.product_id:
            _product_def(session, body.product_id)
        if body.asset_id:
            _check_asset(session, body.asset_id)
        chat = prov.chat_provider(settings)
        name, model = (chat.name, chat.chat_model) if chat else ("local", "text-to-design-planner")
        if chat is None:  # the local plan must succeed before anything is charged
            _local_plan(session, body.prompt, body.product_id, settings, body.asset_id)
        return Prepared(
            operation,
            name,
            model,
            False,
            body.prompt,
            body.product_id,
            [body.asset_id] if body.asset_id else [],
            {},
        )
    if operation == "chat":
        assert isinstance(body, ChatIn)
        ensure_allowed([m.content for m in body.messages if m.role == "user"], settings)
        if body.product_id:
            _product_def(session, body.product_id)
        chat = prov.chat_provider(settings)
        if chat is None:
            raise provider_not_configured()
        last_user = next(
            (m.content for m in reversed(body.messages) if m.role == "user"), body.messages[-1].content
        )
        return Prepared(
            operation,
            chat.name,
            chat.chat_model,
            False,
            last_user,
            body.product_id,
            [],
            {"messages": [m.model_dump() for m in body.messages]},
        )
    raise DomainError(AIErrorCode.UNKNOWN_OPERATION, f"Unknown AI operation {operation}.")


# --------------------------------------------------------------------------- step 2: reserve + record


def start(brand_id: str, actor: str | None, prep: Prepared, shopper: str | None = None) -> str:
    """Reserve the credits and record the generation (and its job). Returns the generation id.

    `shopper`: the widget shopper's public id (`shp_…`) when a shopper photo tool asked for it."""
    gen_id = new_id("gen")
    usage = metering.reserve(
        brand_id,
        COST_OPERATION[prep.operation],
        actor,
        reference=f"usage:{gen_id}",
        metadata={"generation_id": gen_id},
    )
    try:
        with _tx(brand_id) as s:
            s.add(
                AIGeneration(
                    id=gen_id,
                    operation=prep.operation,
                    provider=prep.provider,
                    model=prep.model[:100],
                    prompt=prep.prompt,
                    product_id=prep.product_id,
                    input_asset_ids=prep.input_asset_ids,
                    output_asset_ids=[],
                    options=prep.options,
                    result={},
                    credits=usage.cost,
                    usage_reference=usage.reference,
                    status="pending" if prep.run_as_job else "processing",
                    actor=actor,
                    shopper=shopper,
                )
            )
            s.flush()
            if prep.run_as_job:
                enqueue(s, JOB_ACTOR, f"ai:{gen_id}", {"generation_id": gen_id}, brand_id=brand_id)
    except BaseException:
        metering.refund_usage(usage, reason="generation_not_recorded")
        raise
    return gen_id


# --------------------------------------------------------------------------- step 3: run


def _vector(png: bytes) -> tuple[Output, dict[str, Any]]:
    """One-colour vector paths of an image (for engraving / laser cutting)."""
    traced = local.trace_to_paths(png)
    svg = to_svg(traced, fill="#000000")
    info = {
        "contours": len(traced.paths),
        "width_px": traced.width_px,
        "height_px": traced.height_px,
        "threshold": traced.threshold,
        "inverted": traced.inverted,
        "fill": "#000000",
    }
    return Output(svg, "image/svg+xml", "vector", traced.width_px, traced.height_px), info


def _size(data: bytes) -> tuple[int | None, int | None]:
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.width, img.height
    except Exception:
        return None, None


def _checked_image(data: bytes) -> tuple[bytes, str, int | None, int | None]:
    """Provider bytes go through the same checks as uploads (format sniffing, bombs, size)."""
    checked = catalog.check_upload(
        data, kind="upload", max_bytes=max(get_settings().max_body_bytes, 64 * 1024 * 1024)
    )
    return checked.data, checked.content_type, checked.width_px, checked.height_px


@dataclass
class _Snapshot:
    brand_id: str
    id: str
    operation: str
    provider: str
    prompt: str | None
    product_id: str | None
    input_asset_ids: list[str]
    options: dict[str, Any]
    settings: dict[str, Any]
    image: bytes | None
    product: ProductDef | None
    products: list[ProductDef]


def _load(brand_id: str, gen_id: str) -> _Snapshot:
    with _tx(brand_id, write=False) as s:
        row = get_or_404(s, AIGeneration, gen_id, "generation")
        settings = brand_settings(s, brand_id)
        image = (
            catalog.asset_bytes(s, row.input_asset_ids[0])
            if row.input_asset_ids and row.operation != "text_to_design"
            else None
        )
        product = _product_def(s, row.product_id) if row.product_id else None
        products: list[ProductDef] = []
        if row.operation in ("text_to_design", "chat"):
            products = _brand_products(s)
        return _Snapshot(
            brand_id,
            row.id,
            row.operation,
            row.provider,
            row.prompt,
            row.product_id,
            list(row.input_asset_ids),
            dict(row.options),
            settings,
            image,
            product,
            products,
        )


def _brand_products(session: Session, limit: int = 100) -> list[ProductDef]:
    rows = session.execute(
        select(Product).where(Product.status != "archived").order_by(Product.id).limit(limit)
    ).scalars()
    return [catalog.product_def_of(session, p) for p in rows]


def _palette(snap: _Snapshot) -> list[str]:
    if snap.product is not None and snap.product.palette:
        return [c.lower() for c in snap.product.palette]
    return brand_palette(snap.settings)


def _provider(name: str) -> Any:
    return prov._build(name)  # the provider recorded at request time


def _maybe_vector(outcome: Outcome, png: bytes, wanted: bool) -> Outcome:
    if wanted:
        out, info = _vector(png)
        outcome.outputs.append(out)
        outcome.result["vector"] = info
    return outcome


def _exec_extract_colors(snap: _Snapshot) -> Outcome:
    assert snap.image is not None
    palette = _palette(snap)
    colours = local.extract_colors(snap.image, count=int(snap.options.get("count", 5)), palette=palette)
    source = (
        "product" if snap.product is not None and snap.product.palette else ("brand" if palette else None)
    )
    return Outcome(
        [],
        {
            "colors": [
                {"hex": c.hex, "share": c.share, "palette_match": c.palette_match, "delta_e": c.delta_e}
                for c in colours
            ],
            "palette": palette,
            "palette_source": source,
        },
    )


def _exec_smart_crop(snap: _Snapshot) -> Outcome:
    assert snap.image is not None
    res = local.smart_crop(
        snap.image, float(snap.options["aspect_ratio"]), out_width=snap.options.get("width")
    )
    x, y, w, h = res.box
    outcome = Outcome(
        [Output(res.png, "image/png", "image", res.width, res.height)],
        {
            "box": {"x": x, "y": y, "width": w, "height": h},
            "width": res.width,
            "height": res.height,
            "aspect_ratio": round(float(snap.options["aspect_ratio"]), 6),
        },
    )
    return _maybe_vector(outcome, res.png, bool(snap.options.get("vectorize")))


def _exec_upscale(snap: _Snapshot) -> Outcome:
    assert snap.image is not None
    factor = int(snap.options.get("factor", 2))
    edited = _provider(snap.provider).upscale(snap.image, factor, source_dpi=snap.options.get("source_dpi"))
    data, ctype, w, h = (
        _checked_image(edited.data)
        if snap.provider != "local"
        else (edited.data, edited.content_type, edited.details.get("width"), edited.details.get("height"))
    )
    src_w, src_h = _size(snap.image)
    result = {
        "factor": factor,
        "width": w,
        "height": h,
        "source_width": src_w,
        "source_height": src_h,
        "effective_dpi": edited.details.get("effective_dpi"),
    }
    outcome = Outcome([Output(data, ctype, "image", w, h)], result)
    return _maybe_vector(outcome, data, bool(snap.options.get("vectorize")))


def _exec_background(snap: _Snapshot) -> Outcome:
    assert snap.image is not None
    edited = _provider(snap.provider).remove_background(snap.image)
    if snap.provider != "local":
        data, ctype, w, h = _checked_image(edited.data)
    else:
        data, ctype = edited.data, edited.content_type
        w, h = _size(data)
    outcome = Outcome([Output(data, ctype, "image", w, h)], {**edited.details, "width": w, "height": h})
    return _maybe_vector(outcome, data, bool(snap.options.get("vectorize")))


def _exec_generate(snap: _Snapshot) -> Outcome:
    assert snap.prompt is not None
    gen = _provider(snap.provider)
    img = gen.generate_image(
        snap.prompt,
        size=int(snap.options.get("size", 1024)),
        seed=int(snap.options.get("seed", 0)),
        palette=_palette(snap),
    )
    if snap.provider == "local":
        data, ctype = img.data, img.content_type
        w, h = _size(data)
    else:
        data, ctype, w, h = _checked_image(img.data)
    outputs = [Output(data, ctype, "image", w, h)]
    if img.svg:
        outputs.append(Output(img.svg, "image/svg+xml", "svg", w, h))
    result: dict[str, Any] = {"label": f"{snap.provider}:{_model_of(gen, 'image_model')}", **img.details}
    if img.revised_prompt:
        result["revised_prompt"] = img.revised_prompt
    return _maybe_vector(Outcome(outputs, result), data, bool(snap.options.get("vectorize")))


def _local_plan(
    session: Session,
    prompt: str,
    product_id: str | None,
    settings: dict[str, Any],
    asset_id: str | None,
    products: Sequence[ProductDef] | None = None,
) -> planner.Plan:
    if products is None:
        products = [_product_def(session, product_id)] if product_id else _brand_products(session)
    try:
        return planner.plan_design(
            prompt, products, product_id=product_id, brand_palette=brand_palette(settings), asset_id=asset_id
        )
    except planner.PlanError as exc:
        raise DomainError(exc.code, str(exc)) from None


def _exec_text_to_design(snap: _Snapshot) -> Outcome:
    assert snap.prompt is not None
    asset_id = snap.input_asset_ids[0] if snap.input_asset_ids else None
    products = [snap.product] if snap.product is not None else snap.products
    llm_error: str | None = None
    plan: planner.Plan | None = None
    if snap.provider != "local":
        chat = _provider(snap.provider)
        try:
            data = chat.structured(
                [prov.ChatMessage("user", snap.prompt)],
                schema=planner.plan_schema(products),
                name="design_plan",
                system=PLAN_SYSTEM.format(catalogue=planner.catalogue_brief(products)),
                max_tokens=prov.ai_settings().max_tokens,
            )
            plan = planner.plan_from_structured(
                data,
                products,
                product_id=snap.product_id,
                brand_palette=brand_palette(snap.settings),
                asset_id=asset_id,
            )
        except (prov.ProviderError, planner.PlanError) as exc:
            llm_error = str(exc)
            log.warning("ai_llm_plan_failed", provider=snap.provider, error=llm_error)
    if plan is None:
        try:
            plan = planner.plan_design(
                snap.prompt,
                products,
                product_id=snap.product_id,
                brand_palette=brand_palette(snap.settings),
                asset_id=asset_id,
            )
        except planner.PlanError as exc:
            raise DomainError(exc.code, str(exc)) from None
    chosen = plan

    def finalize(session: Session) -> dict[str, Any]:
        from luneo.designs import public as designs

        built = designs.check_inputs(session, chosen.product_id, chosen.inputs)
        if built.ok:
            designs.store_spec(session, built)
        return {
            "valid": built.ok,
            "spec": built.spec.model_dump(mode="json") if built.spec else None,
            "spec_hash": built.spec_hash,
            "violations": [v.as_dict() for v in built.violations],
            "warnings": [w.as_dict() for w in built.warnings],
            "sizes": dict(built.sizes),
        }

    result: dict[str, Any] = {"plan": plan.as_dict(), "planner": plan.planner}
    if llm_error:
        result["llm_error"] = llm_error
    return Outcome([], result, finalize)


def _exec_chat(snap: _Snapshot) -> Outcome:
    chat = _provider(snap.provider)
    brand_name = str(snap.settings.get("display_name") or "the brand")
    products = [snap.product] if snap.product is not None else snap.products[:20]
    messages = [prov.ChatMessage(m["role"], m["content"]) for m in snap.options.get("messages", [])]
    res = chat.chat(
        messages,
        system=CHAT_SYSTEM.format(brand=brand_name, catalogue=planner.catalogue_brief(products) or "(none)"),
        max_tokens=prov.ai_settings().max_tokens,
    )
    return Outcome(
        [], {"message": {"role": "assistant", "content": res.text}, "usage": res.usage, "model": res.model}
    )


EXECUTORS: dict[str, Callable[[_Snapshot], Outcome]] = {
    "extract_colors": _exec_extract_colors,
    "smart_crop": _exec_smart_crop,
    "upscale": _exec_upscale,
    "background_removal": _exec_background,
    "generate": _exec_generate,
    "text_to_design": _exec_text_to_design,
    "chat": _exec_chat,
}


def execute(brand_id: str, gen_id: str) -> Outcome:
    """Run a recorded generation's work (no transaction held while it runs)."""
    snap = _load(brand_id, gen_id)
    return EXECUTORS[snap.operation](snap)


def finish_ok(brand_id: str, gen_id: str, outcome: Outcome, latency_ms: int) -> None:
    """Store the outputs as derived assets and mark the generation succeeded."""
    with _tx(brand_id) as s:
        row = get_or_404(s, AIGeneration, gen_id, "generation")
        if row.status in ("succeeded", "failed"):
            return
        ids: list[str] = []
        roles: dict[str, str] = {}
        for out in outcome.outputs:
            ext = {"image/png": "png", "image/svg+xml": "svg", "image/jpeg": "jpg", "image/webp": "webp"}
            asset = catalog.store_derived_asset(
                s,
                out.data,
                content_type=out.content_type,
                width_px=out.width,
                height_px=out.height,
                filename=f"{gen_id}-{out.role}.{ext.get(out.content_type, 'bin')}",
                created_by=row.actor,
            )
            ids.append(asset.id)
            roles[out.role] = asset.id
        result = dict(outcome.result)
        if outcome.finalize is not None:
            result.update(outcome.finalize(s))
        if roles:
            result["output_roles"] = roles
            if "vector" in roles and isinstance(result.get("vector"), dict):
                result["vector"]["asset_id"] = roles["vector"]
        row.output_asset_ids = ids
        row.result = result
        row.status = "succeeded"
        row.error = row.error_code = None
        row.latency_ms = latency_ms
        row.finished_at = utcnow()


def finish_failed(brand_id: str, gen_id: str, code: str, message: str, latency_ms: int | None = None) -> bool:
    """Mark the generation failed and refund its credits in one transaction (idempotent)."""
    with _tx(brand_id) as s:
        row = get_or_404(s, AIGeneration, gen_id, "generation")
        if row.status in ("succeeded", "failed"):
            return False
        row.status = "failed"
        row.error_code = code[:64]
        row.error = message[:2000]
        row.latency_ms = latency_ms
        row.finished_at = utcnow()
        if row.usage_reference:
            credits.refund(s, brand_id, row.usage_reference, actor="ai", reason=code)
    log.info("ai_generation_failed", generation_id=gen_id, code=code)
    return True


def problem_for(exc: BaseException) -> tuple[str, str, DomainError]:
    """(error code, message, the domain error to answer) for a failed run."""
    if isinstance(exc, DomainError):
        return exc.code.value, exc.detail or exc.code.value, exc
    if isinstance(exc, prov.ProviderError):
        msg = f"The AI provider failed ({exc}). The credits were refunded."
        return (
            "ai_provider_error",
            str(exc),
            DomainError(
                AIErrorCode.AI_PROVIDER_ERROR, msg, provider=exc.provider, provider_status=exc.status
            ),
        )
    if isinstance(exc, local.ImageInputError):
        return (
            "invalid_image",
            str(exc),
            DomainError(AIErrorCode.INVALID_IMAGE, f"The image cannot be used: {exc}"),
        )
    if isinstance(exc, ValueError):
        return "invalid_options", str(exc), DomainError(AIErrorCode.INVALID_OPTIONS, str(exc))
    return (
        "internal_error",
        type(exc).__name__,
        DomainError(AIErrorCode.AI_FAILED, "The AI operation failed; the credits were refunded."),
    )


def run_now(brand_id: str, gen_id: str) -> None:
    """Run a synchronous generation; on failure refund and raise the matching problem."""
    t0 = time.monotonic()
    try:
        outcome = execute(brand_id, gen_id)
        finish_ok(brand_id, gen_id, outcome, int((time.monotonic() - t0) * 1000))
    except Exception as exc:
        code, message, error = problem_for(exc)
        if not isinstance(exc, DomainError):  # a provider failure or a bug, not a refused request
            log.exception("ai_generation_error", generation_id=gen_id)
        finish_failed(brand_id, gen_id, code, message, int((time.monotonic() - t0) * 1000))
        raise error from None


def submit(
    session: Session,
    brand_id: str,
    actor: str | None,
    operation: str,
    body: Any,
    *,
    shopper: str | None = None,
) -> GenerationOut:
    """The whole request path: prepare (uncharged checks), reserve + record, run now or as a job."""
    prep = prepare(session, brand_id, operation, body)
    session.rollback()  # end the read transaction before writing elsewhere
    gen_id = start(brand_id, actor, prep, shopper)
    if not prep.run_as_job:
        run_now(brand_id, gen_id)
    with _tx(brand_id, write=False) as s:
        return view(s, get_or_404(s, AIGeneration, gen_id, "generation"))


# --------------------------------------------------------------------------- history


def _outputs(session: Session, rows: Sequence[AIGeneration]) -> dict[str, Asset]:
    ids = {a for r in rows for a in (r.output_asset_ids or [])}
    if not ids:
        return {}
    return {a.id: a for a in session.execute(select(Asset).where(Asset.id.in_(ids))).scalars()}


def view(session: Session, row: AIGeneration, assets: dict[str, Asset] | None = None) -> GenerationOut:
    assets = _outputs(session, [row]) if assets is None else assets
    outputs = [
        OutputOut(asset_id=a.id, url=catalog.asset_url(a), content_type=a.content_type)
        for a in (assets.get(i) for i in row.output_asset_ids or [])
        if a is not None
    ]
    return GenerationOut(
        id=row.id,
        operation=row.operation,
        status=row.status,
        provider=row.provider,  # type: ignore[arg-type]
        model=row.model,
        prompt=row.prompt,
        product_id=row.product_id,
        input_asset_ids=list(row.input_asset_ids or []),
        outputs=outputs,
        result=dict(row.result or {}),
        credits=row.credits,
        latency_ms=row.latency_ms,
        error=ErrorOut(code=row.error_code or "failed", message=row.error or "")
        if row.status == "failed"
        else None,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


def reconcile(brand_id: str, row: AIGeneration) -> bool:
    """A pending/processing generation whose job failed for good (e.g. a stuck worker killed at its
    time limit) is marked failed and refunded."""
    from luneo.platform.models import Job

    if row.status not in ("pending", "processing"):
        return False
    with get_db().transaction(write=False) as s:
        from luneo.platform.tenancy import bind_system

        bind_system(s)
        job = s.execute(select(Job).where(Job.key == f"ai:{row.id}")).scalar_one_or_none()
        failed = job is not None and job.status == "failed"
        error = (job.error or "job failed") if job is not None else ""
    if failed:
        return finish_failed(brand_id, row.id, "job_failed", error)
    return False


def get_generation(session: Session, brand_id: str, generation_id: str) -> GenerationOut:
    row = get_or_404(session, AIGeneration, generation_id, "generation")
    if reconcile(brand_id, row):
        session.expire(row)
        session.rollback()
        row = get_or_404(session, AIGeneration, generation_id, "generation")
    return view(session, row)


def list_generations(
    session: Session,
    *,
    operation: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[GenerationOut]:
    stmt = select(AIGeneration)
    if operation:
        stmt = stmt.where(AIGeneration.operation == operation)
    if status:
        stmt = stmt.where(AIGeneration.status == status)
    page = paginate(session, stmt, AIGeneration, cursor, limit)
    assets = _outputs(session, page.data)
    return page.map(lambda r: view(session, r, assets))


def reconcile_failed_jobs(db: Any) -> int:
    """Cleanup hook: fail and refund generations whose job failed for good but stayed open."""
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        rows = s.execute(
            select(AIGeneration.brand_id, AIGeneration.id, Job.error)
            .join(Job, Job.key == "ai:" + AIGeneration.id)
            .where(AIGeneration.status.in_(("pending", "processing")), Job.status == "failed")
            .limit(500)
        ).all()
    done = 0
    for brand_id, gen_id, error in rows:
        done += int(finish_failed(brand_id, gen_id, "job_failed", error or "job failed"))
    return done
