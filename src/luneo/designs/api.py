"""Routes: specs, personalization checks, snapshots, saved and shared designs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from luneo.catalog.public import shoppers
from luneo.design.spec import spec_json_schema
from luneo.designs import approval, service
from luneo.designs.models import DesignSpecRow, SavedDesign, Snapshot
from luneo.designs.schemas import (
    ApprovalOut,
    AutoFitIn,
    AutoFitOut,
    DesignIn,
    DesignInputs,
    DesignOut,
    NormalizeIn,
    NormalizeOut,
    ProofOut,
    SharedDesignOut,
    SnapshotIn,
    SnapshotOut,
    SpecOut,
    SpecValidateIn,
    SpecValidateOut,
    ValidationOut,
)
from luneo.platform.auth import Tenant
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.deps import DesignsCheckDep, DesignsSnapshotDep, DesignsValidateDep, DesignsWriteDep
from luneo.platform.errors import Problem
from luneo.platform.pagination import Page, paginate
from luneo.platform.tenancy import bind_system

PUBLIC_JSON_BODY_BYTES = 64 * 1024  # widget (pk_) bodies on these routes; servers keep the general limit


def public_body_cap(request: Request) -> None:
    """A publishable-key (widget) caller's body over `PUBLIC_JSON_BODY_BYTES` is a 413 problem,
    before the route does any work. The key is not verified here: claiming `pk_` only makes the
    limit smaller, and authentication still happens in the guard."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip().startswith("pk_"):
        return
    raw = request.scope.get("state", {}).get("raw_body")
    try:
        size = len(raw) if raw is not None else int(request.headers.get("content-length") or 0)
    except ValueError:
        size = 0
    if size > PUBLIC_JSON_BODY_BYTES:
        raise Problem(
            413,
            "payload_too_large",
            f"The body exceeds {PUBLIC_JSON_BODY_BYTES} bytes (publishable key).",
            max_bytes=PUBLIC_JSON_BODY_BYTES,
        )


router = APIRouter(tags=["designs"], dependencies=[Depends(public_body_cap)])


def _spec_out(
    row: DesignSpecRow, warnings: list[dict[str, Any]] | None = None, sizes: dict[str, float] | None = None
) -> SpecOut:
    return SpecOut(
        id=row.id,
        spec_hash=row.spec_hash,
        spec_version=row.spec_version,
        product_id=row.product_id,
        spec=row.spec,
        warnings=warnings or [],
        sizes=sizes or {},
        created_at=row.created_at,
    )  # type: ignore[arg-type]


@router.get("/specs/schema")
def spec_schema() -> dict[str, Any]:
    """The DesignSpec JSON Schema (Draft 2020-12), versioned."""
    return spec_json_schema()


@router.post("/specs", response_model=SpecOut, status_code=201)
def create_spec(body: DesignInputs, t: DesignsValidateDep) -> SpecOut:
    """Validate the inputs against the product's rules and store the canonical spec (by hash)."""
    row, result = service.create_spec(t.session, body.product_id, body.inputs, shoppers.scope_of(t))
    return _spec_out(row, [w.as_dict() for w in result.warnings], result.sizes)


@router.get("/specs/{spec_hash}", response_model=SpecOut)
def get_spec(spec_hash: str, t: DesignsValidateDep) -> SpecOut:
    """A stored spec by its SHA-256 (a publishable key: only one its shopper built)."""
    return _spec_out(service.get_spec(t.session, spec_hash, shoppers.scope_of(t)))


@router.post("/specs/validate", response_model=SpecValidateOut)
def validate_spec(body: SpecValidateIn, t: DesignsCheckDep) -> SpecValidateOut:
    """Check a whole DesignSpec document (schema, current product, rules) and give its hash."""
    spec_hash, violations, warnings = service.validate_document(
        t.session, body.spec, shoppers.scope_of(t, required=False)
    )
    return SpecValidateOut(
        valid=not violations, spec_hash=spec_hash, violations=violations, warnings=warnings
    )  # type: ignore[arg-type]


@router.post("/personalization/validate", response_model=ValidationOut)
def validate_personalization(body: DesignInputs, t: DesignsCheckDep) -> ValidationOut:
    """Every rule violation per zone (`{zone, code, message, params}`) — writes nothing."""
    result = service.check_inputs(
        t.session, body.product_id, body.inputs, shoppers.scope_of(t, required=False)
    )
    return ValidationOut(
        valid=result.ok,
        violations=[v.as_dict() for v in result.violations],  # type: ignore[misc]
        warnings=[w.as_dict() for w in result.warnings],
        sizes=result.sizes,
    )  # type: ignore[misc]


@router.post("/personalization/normalize", response_model=NormalizeOut)
def normalize(body: NormalizeIn, t: DesignsCheckDep) -> NormalizeOut:
    """Unicode NFC and line-ending normalisation as the rules engine applies it."""
    texts, changed = service.normalize(body.texts)
    return NormalizeOut(texts=texts, changed=changed)


@router.post("/personalization/auto-fit", response_model=AutoFitOut)
def auto_fit(body: AutoFitIn, t: DesignsCheckDep) -> AutoFitOut:
    """The largest font size in the zone's [min, max] at which the text fits."""
    from luneo.design.text import auto_fit as fit
    from luneo.designs.resources import BrandResources

    product = service.product_definition(t.session, body.product_id)
    zone = next((z for z in product.zones if z.key == body.zone), None)
    if zone is None or zone.kind != "text":
        raise Problem(422, "unknown_zone", f"The product has no text zone {body.zone}.")
    font = body.font or zone.default_font or "fnt_sans"
    if zone.rules.allowed_fonts and font not in zone.rules.allowed_fonts:
        raise Problem(422, "font_not_allowed", f"Font {font} is not allowed in zone {body.zone}.")
    res = BrandResources(t.session)
    data = res.font_bytes(font) if font.startswith("fnt_") else None
    layout = fit(
        body.text,
        zone.geometry,
        font_id=font,
        min_pt=zone.rules.min_font_pt,
        max_pt=zone.rules.max_font_pt,
        font_data=data,
    )
    bbox = [layout.bbox.x0, layout.bbox.y0, layout.bbox.x1, layout.bbox.y1] if layout.bbox else None
    return AutoFitOut(
        zone=body.zone,
        font=font,
        size_pt=round(layout.size_pt, 3),
        fits=layout.fits,
        lines=layout.lines,
        bbox_mm=bbox,
        missing_chars=list(layout.missing_chars),
    )


@router.post("/snapshots", response_model=SnapshotOut, status_code=201)
def create_snapshot(
    body: SnapshotIn, request: Request, response: Response, t: DesignsSnapshotDep
) -> SnapshotOut:
    """Freeze a design (idempotent on spec_hash: the same spec returns the same snapshot, 200).

    A publishable key names only specs its shopper built, and the snapshot is bound to that shopper."""
    shopper = shoppers.scope_of(t)
    row = service.resolve_spec(
        t.session, spec_hash=body.spec_hash, product_id=body.product_id, inputs=body.inputs, shopper=shopper
    )
    provenance = {
        **body.provenance.model_dump(),
        "ip": request.client.host if request.client else None,
        "user_agent": (request.headers.get("user-agent") or "")[:300],
        "credential": t.principal.kind,
    }
    if shopper is not None:  # never store a shopper's bearer token: record who by a digest of it
        provenance["session_id"] = shoppers.public_id(shopper)
    snap, created = service.create_snapshot(
        t.session, spec_row=row, actor=t.principal.actor, provenance=provenance, shopper=shopper
    )
    if not created:
        response.status_code = 200
    return _snapshot_out(snap, shopper, t)


def _snapshot_out(snap: Snapshot, shopper: str | None, t: Tenant) -> SnapshotOut:
    """A widget caller sees the snapshot without who made it (another shopper may have, first),
    and only its own approval; brand credentials see every approval."""
    approvals = [ApprovalOut.model_validate(a) for a in approval.approvals_of(t.session, snap.id, shopper)]
    out = SnapshotOut.model_validate(snap).model_copy(update={"approvals": approvals})
    if shopper is None:
        return out
    source = (snap.provenance or {}).get("source")
    return out.model_copy(update={"provenance": {"source": source}, "created_by": None})


@router.get("/snapshots/{snapshot_id}", response_model=SnapshotOut)
def get_snapshot(snapshot_id: str, t: DesignsSnapshotDep) -> SnapshotOut:
    """A snapshot with its immutable spec and rendered files (a publishable key: its shopper's only)."""
    shopper = shoppers.scope_of(t)
    return _snapshot_out(service.get_snapshot(t.session, snapshot_id, shopper), shopper, t)


@router.get("/snapshots/{snapshot_id}/proof", response_model=ProofOut)
def snapshot_proof(snapshot_id: str, t: DesignsSnapshotDep) -> ProofOut:
    """The final proof before add-to-cart: the texts per zone exactly as they will be made (after
    normalisation and auto-fit: `auto_shrunk` when the size went below the zone's maximum), each
    photo's DPI, and production's own print checks (`blocking` when an `error` finding would stop
    production). `preview_request` is the body for `POST /renders/preview` that shows it."""
    shopper = shoppers.scope_of(t)
    snap, facts = approval.proof(t.session, snapshot_id, shopper)
    approvals = approval.approvals_of(t.session, snap.id, shopper)
    last = ApprovalOut.model_validate(approvals[-1]) if approvals else None
    return ProofOut(
        snapshot_id=snap.id,
        spec_hash=snap.spec_hash,
        product_id=snap.product_id,
        product_name=str((snap.spec.get("product") or {}).get("name") or ""),
        preview_request={"snapshot_id": snap.id, "format": "png", "mockup": True, "width": 1024},
        zones=list(facts.zones),  # type: ignore[arg-type]
        findings=list(facts.findings),  # type: ignore[arg-type]
        blocking=bool(facts.blocking),
        approval_required=approval.approval_required(t.session),
        approved=last is not None,
        approval=last,
    )


@router.post("/snapshots/{snapshot_id}/approve", response_model=ApprovalOut)
def approve_snapshot(snapshot_id: str, t: DesignsSnapshotDep) -> ApprovalOut:
    """The shopper ticks "I approved this design": records who (`shp_…`), when (UTC) and the
    spec_hash (idempotent per approver; audited). 409 `proof_blocked` with the `findings` when a
    print check would stop production."""
    row = approval.approve(t.session, snapshot_id, shoppers.scope_of(t), t.principal.actor)
    return ApprovalOut.model_validate(row)


@router.post("/snapshots/{snapshot_id}/lock", response_model=SnapshotOut)
def lock_snapshot(snapshot_id: str, t: DesignsWriteDep) -> SnapshotOut:
    """Lock a snapshot for production (idempotent; audited)."""
    return _snapshot_out(service.lock_snapshot(t.session, snapshot_id, t.principal.actor), None, t)


@router.post("/snapshots/{snapshot_id}/validate", response_model=SnapshotOut)
def validate_snapshot(snapshot_id: str, t: DesignsWriteDep) -> SnapshotOut:
    """Re-check the snapshot's rules and record who validated it and when (audited)."""
    return _snapshot_out(service.validate_snapshot(t.session, snapshot_id, t.principal.actor), None, t)


def _shopper(t: Tenant) -> tuple[str | None, bool]:
    """Widget callers (pk_ keys) only see designs saved with their own `X-Shopper-Token`."""
    if t.principal.kind != "publishable_key":
        return None, False
    return t.shopper_token(required=True), True


def _design_out(d: SavedDesign) -> DesignOut:
    """`share_url` is the human share page; `inputs` reopen the design in the widget."""
    url = f"{get_settings().public_base_url}/d/{d.share_token}" if d.share_token else None
    return DesignOut(
        id=d.id,
        name=d.name,
        spec_hash=d.spec_hash,
        product_id=d.product_id,
        source=d.source,
        share_url=url,
        inputs=dict((d.spec_row.spec or {}).get("inputs") or {}),
        created_at=d.created_at,
    )


@router.post("/designs", response_model=DesignOut, status_code=201)
def save_design(body: DesignIn, t: DesignsSnapshotDep) -> DesignOut:
    """Save a named design (from a spec hash or product + inputs) so no work is lost."""
    shopper, _ = _shopper(t)
    row = service.resolve_spec(
        t.session, spec_hash=body.spec_hash, product_id=body.product_id, inputs=body.inputs, shopper=shopper
    )
    return _design_out(
        service.save_design(
            t.session,
            name=body.name,
            source=body.source,
            spec_row=row,
            actor=t.principal.actor,
            shopper_token=shopper,
        )
    )


@router.get("/designs", response_model=Page[DesignOut])
def list_designs(
    t: DesignsSnapshotDep, cursor: str | None = None, limit: int = 50, product_id: str | None = None
) -> Page[DesignOut]:
    """Saved designs, newest first (a widget sees only its shopper's)."""
    shopper, restrict = _shopper(t)
    q = select(SavedDesign)
    if restrict:
        q = q.where(SavedDesign.shopper_token == shopper)
    if product_id:
        q = q.where(SavedDesign.product_id == product_id)
    return paginate(t.session, q, SavedDesign, cursor, limit).map(_design_out)


@router.get("/designs/{design_id}", response_model=DesignOut)
def get_design(design_id: str, t: DesignsSnapshotDep) -> DesignOut:
    shopper, restrict = _shopper(t)
    return _design_out(service.get_design(t.session, design_id, shopper, restrict))


@router.delete("/designs/{design_id}", status_code=204)
def delete_design(design_id: str, t: DesignsSnapshotDep) -> Response:
    shopper, restrict = _shopper(t)
    t.session.delete(service.get_design(t.session, design_id, shopper, restrict))
    return Response(status_code=204)


@router.post("/designs/{design_id}/share", response_model=DesignOut)
def share_design(design_id: str, t: DesignsSnapshotDep) -> DesignOut:
    """Create (once) a read-only share link for the design."""
    shopper, restrict = _shopper(t)
    return _design_out(
        service.share_design(t.session, service.get_design(t.session, design_id, shopper, restrict))
    )


@router.delete("/designs/{design_id}/share", response_model=DesignOut)
def revoke_design_share(design_id: str, t: DesignsSnapshotDep) -> DesignOut:
    """Turn the design's share link off: its token answers 404 from now on (a new share makes a
    new token)."""
    shopper, restrict = _shopper(t)
    return _design_out(service.revoke_share(service.get_design(t.session, design_id, shopper, restrict)))


@router.get("/shared/designs/{share_token}", response_model=SharedDesignOut)
def shared_design(share_token: str) -> SharedDesignOut:
    """A shared design, read-only, for anyone holding the link."""
    with get_db().transaction(write=False) as s:
        bind_system(s)
        design, spec = service.shared_design(s, share_token)
        return SharedDesignOut(
            name=design.name,
            spec_hash=design.spec_hash,
            product_id=design.product_id,
            spec=spec.spec,
            created_at=design.created_at,
        )
