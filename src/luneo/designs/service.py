"""Design use cases: validate inputs, build and store specs, snapshot, save and share designs."""

from __future__ import annotations

import json
import secrets
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from luneo.catalog import public as catalog
from luneo.catalog.public import shoppers
from luneo.design.canonical import spec_hash as hash_of
from luneo.design.model import DesignSpec, ProductDef
from luneo.design.rules import normalize_text, validate_inputs
from luneo.design.spec import BuildResult, build_spec
from luneo.designs.error_codes import DesignsErrorCode
from luneo.designs.models import DesignSpecRow, SavedDesign, Snapshot
from luneo.designs.resources import BrandResources
from luneo.platform.clock import utcnow
from luneo.platform.context import current_request_id
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.error_reporting import tag_spec_hash
from luneo.platform.events import publish
from luneo.platform.models import AuditEvent


def product_definition(session: Session, product_id: str) -> ProductDef:
    """The product as the pure core sees it (404 when missing or another brand's)."""
    return catalog.product_def(session, product_id)


def check_inputs(
    session: Session, product_id: str, inputs: dict[str, Any], shopper: str | None = None
) -> BuildResult:
    """Validate and resolve without storing anything (a `shopper` may only name its own uploads)."""
    product = product_definition(session, product_id)
    res = BrandResources(session, shopper)
    result = build_spec(
        product,
        inputs,
        font_sha_lookup=res.font_sha,
        asset_lookup=res.asset,
        font_data_lookup=res.font_bytes,
        **res.word_lists(),
    )
    tag_spec_hash(result.spec_hash)  # error reports name the design they were about
    return result


def _violation_problem(result: BuildResult) -> DomainError:
    return DomainError(
        DesignsErrorCode.DESIGN_INVALID,
        "The design breaks the product's rules.",
        violations=[v.as_dict() for v in result.violations],
        warnings=[w.as_dict() for w in result.warnings],
    )


def store_spec(session: Session, result: BuildResult) -> DesignSpecRow:
    """Insert the spec once per brand (same hash ⇒ same row, also under concurrency)."""
    assert result.spec is not None and result.spec_hash is not None
    existing = session.execute(
        select(DesignSpecRow).where(DesignSpecRow.spec_hash == result.spec_hash)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    row = DesignSpecRow(
        spec_version=result.spec.spec_version,
        spec_hash=result.spec_hash,
        product_id=result.spec.product.id,
        canonical=result.canonical.decode(),
        spec=json.loads(result.canonical),
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        row = session.execute(
            select(DesignSpecRow).where(DesignSpecRow.spec_hash == result.spec_hash)
        ).scalar_one()
    return row


def create_spec(
    session: Session, product_id: str, inputs: dict[str, Any], shopper: str | None = None
) -> tuple[DesignSpecRow, BuildResult]:
    """Validate and store a spec; a widget `shopper` is granted it (it alone may name it by hash)."""
    result = check_inputs(session, product_id, inputs, shopper)
    if not result.ok:
        raise _violation_problem(result)
    row = store_spec(session, result)
    shoppers.grant(session, shopper, "spec", row.spec_hash)
    return row, result


def get_spec(session: Session, spec_hash: str, shopper: str | None = None) -> DesignSpecRow:
    """A stored spec by hash; for a widget `shopper`, only one it built itself (404 otherwise)."""
    row = session.execute(
        select(DesignSpecRow).where(DesignSpecRow.spec_hash == spec_hash)
    ).scalar_one_or_none()
    if row is None or not shoppers.holds(session, shopper, "spec", row.spec_hash):
        raise NotFoundError("spec", spec_hash)
    tag_spec_hash(row.spec_hash)
    return row


def validate_document(
    session: Session, document: dict[str, Any], shopper: str | None = None
) -> tuple[str | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """Check a whole DesignSpec document: schema, product is ours and current, rules pass.

    Returns (spec_hash, violations, warnings); the hash is that of the canonical document.
    """
    try:
        spec = DesignSpec.model_validate(document)
    except ValidationError as exc:
        errs = [
            {
                "zone": None,
                "code": "schema",
                "message": e["msg"],
                "params": {"loc": [str(p) for p in e["loc"]]},
            }
            for e in exc.errors()[:50]
        ]
        return None, errs, []
    current = product_definition(session, spec.product.id)
    violations: list[dict[str, Any]] = []
    if current != spec.product:
        violations.append(
            {
                "zone": None,
                "code": "product_changed",
                "message": "The product has changed since this spec was built; rebuild it.",
                "params": {},
            }
        )
    res = BrandResources(session, shopper)
    outcome = validate_inputs(
        spec.product,
        {k: v.model_dump(mode="json") for k, v in spec.inputs.items()},
        font_data_lookup=res.font_bytes,
        asset_lookup=res.asset,
        **res.word_lists(),
    )
    violations += [v.as_dict() for v in outcome.violations]
    return hash_of(spec), violations, [w.as_dict() for w in outcome.warnings]


def normalize(texts: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    out = {k: normalize_text(v) for k, v in texts.items()}
    return out, [k for k in texts if out[k] != texts[k]]


def _audit(
    session: Session, actor: str, action: str, snapshot: Snapshot, data: dict[str, Any] | None = None
) -> None:
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            resource_type="snapshot",
            resource_id=snapshot.id,
            data=data or {},
            request_id=current_request_id(),
            created_at=utcnow(),
        )
    )


def create_snapshot(
    session: Session,
    *,
    spec_row: DesignSpecRow,
    actor: str,
    provenance: dict[str, Any],
    shopper: str | None = None,
) -> tuple[Snapshot, bool]:
    """Idempotent: the same spec in the same brand returns the same snapshot. (snapshot, created)

    A widget `shopper` is granted the snapshot; `created` then means "new to this shopper"."""
    snap, created = _create_snapshot(session, spec_row=spec_row, actor=actor, provenance=provenance)
    granted = shoppers.grant(session, shopper, "snapshot", snap.id)
    return snap, (granted if shopper is not None else created)


def _create_snapshot(
    session: Session, *, spec_row: DesignSpecRow, actor: str, provenance: dict[str, Any]
) -> tuple[Snapshot, bool]:
    existing = session.execute(
        select(Snapshot).where(Snapshot.spec_hash == spec_row.spec_hash)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    snap = Snapshot(
        spec_id=spec_row.id,
        spec_hash=spec_row.spec_hash,
        spec=dict(spec_row.spec),
        product_id=spec_row.product_id,
        provenance=provenance,
        created_by=actor,
    )
    try:
        with session.begin_nested():
            session.add(snap)
    except IntegrityError:
        return session.execute(
            select(Snapshot).where(Snapshot.spec_hash == spec_row.spec_hash)
        ).scalar_one(), False
    _audit(session, actor, "snapshot.created", snap, {"spec_hash": snap.spec_hash})
    publish(session, "snapshot.created", snapshot_event(snap))
    return snap, True


def snapshot_event(snap: Snapshot) -> dict[str, Any]:
    """The payload of `snapshot.created` / `snapshot.approved` on the event bus."""
    return {
        "brand_id": snap.brand_id,
        "snapshot_id": snap.id,
        "spec_hash": snap.spec_hash,
        "product_id": snap.product_id,
        "created_by": snap.created_by,
        "created_at": snap.created_at.isoformat() if snap.created_at else None,
    }


def get_snapshot(session: Session, snapshot_id: str, shopper: str | None = None) -> Snapshot:
    """A snapshot of the session's brand; for a widget `shopper`, only one it made (404 otherwise)."""
    snap = session.execute(select(Snapshot).where(Snapshot.id == snapshot_id)).scalar_one_or_none()
    if snap is None or not shoppers.holds(session, shopper, "snapshot", snap.id):
        raise NotFoundError("snapshot", snapshot_id)
    return snap


def lock_snapshot(session: Session, snapshot_id: str, actor: str) -> Snapshot:
    snap = get_snapshot(session, snapshot_id)
    if snap.locked_at is None:
        snap.locked_at, snap.locked_by = utcnow(), actor
        _audit(session, actor, "snapshot.locked", snap)
    return snap


def validate_snapshot(session: Session, snapshot_id: str, actor: str) -> Snapshot:
    """Re-check the frozen spec against the rules and record who validated it, when."""
    snap = get_snapshot(session, snapshot_id)
    spec = DesignSpec.model_validate(snap.spec)
    res = BrandResources(session)
    outcome = validate_inputs(
        spec.product,
        {k: v.model_dump(mode="json") for k, v in spec.inputs.items()},
        font_data_lookup=res.font_bytes,
        asset_lookup=res.asset,
        **res.word_lists(),
    )
    if outcome.violations:
        raise DomainError(
            DesignsErrorCode.DESIGN_INVALID,
            "The snapshot's design no longer passes its rules.",
            violations=[v.as_dict() for v in outcome.violations],
        )
    snap.validated_at, snap.validated_by = utcnow(), actor
    _audit(session, actor, "snapshot.validated", snap)
    return snap


def attach_assets(session: Session, snapshot_id: str, refs: dict[str, Any]) -> Snapshot:
    """Record rendered file refs (preview, 3D, AR, production) — the spec itself never changes."""
    snap = get_snapshot(session, snapshot_id)
    snap.assets = {**(snap.assets or {}), **refs}
    return snap


def resolve_spec(
    session: Session,
    *,
    spec_hash: str | None,
    product_id: str | None,
    inputs: dict[str, Any] | None,
    shopper: str | None = None,
) -> DesignSpecRow:
    """An existing spec by hash (a widget `shopper`'s own), or a new one built from product + inputs."""
    if spec_hash:
        return get_spec(session, spec_hash, shopper)
    if product_id is None or inputs is None:
        raise DomainError(DesignsErrorCode.SPEC_REQUIRED, "Give a spec_hash, or a product_id with inputs.")
    row, _ = create_spec(session, product_id, inputs, shopper)
    return row


def save_design(
    session: Session,
    *,
    name: str,
    source: str,
    spec_row: DesignSpecRow,
    actor: str,
    shopper_token: str | None,
) -> SavedDesign:
    design = SavedDesign(
        name=name,
        source=source,
        spec_id=spec_row.id,
        spec_hash=spec_row.spec_hash,
        product_id=spec_row.product_id,
        created_by=actor,
        shopper_token=shopper_token,
    )
    session.add(design)
    session.flush()
    saved = {"design_id": design.id, "name": design.name, "source": design.source}
    of = {"product_id": design.product_id, "spec_hash": design.spec_hash}
    publish(session, "design.saved", {"brand_id": design.brand_id, **saved, **of})
    return design


def get_design(
    session: Session, design_id: str, shopper_token: str | None = None, restrict: bool = False
) -> SavedDesign:
    q = select(SavedDesign).where(SavedDesign.id == design_id)
    if restrict:
        q = q.where(SavedDesign.shopper_token == shopper_token)
    design = session.execute(q).scalar_one_or_none()
    if design is None:
        raise NotFoundError("design", design_id)
    return design


def share_design(session: Session, design: SavedDesign) -> SavedDesign:
    if design.share_token is None:
        design.share_token = secrets.token_urlsafe(24)
    return design


def revoke_share(design: SavedDesign) -> SavedDesign:
    """Turn the design's share link off (the old token answers 404 from now on)."""
    design.share_token = None
    return design


def shared_design(session: Session, token: str) -> tuple[SavedDesign, DesignSpecRow]:
    """A shared design by its token (system session: the token is the credential)."""
    design = session.execute(select(SavedDesign).where(SavedDesign.share_token == token)).scalar_one_or_none()
    if design is None:
        raise NotFoundError("shared design")
    spec = session.execute(select(DesignSpecRow).where(DesignSpecRow.id == design.spec_id)).scalar_one()
    return design, spec


def ensure_mutable(snapshot: Snapshot) -> None:
    if snapshot.locked_at is not None:
        raise DomainError(DesignsErrorCode.SNAPSHOT_LOCKED, "This snapshot is locked.")


def _zone_filled(kind: str, value: Any) -> bool:
    if not isinstance(value, dict) or value.get("kind", kind) != kind:
        return False
    if kind == "text":
        return isinstance(value.get("text"), str) and bool(value["text"].strip())
    if kind == "image":
        return bool(value.get("asset_sha256") or value.get("asset_id"))
    return bool(value.get("color"))


def unfilled_required_zones(product: ProductDef, snapshot: Snapshot | None) -> list[str]:
    """Keys of the product's required zones (as the product is now) that the snapshot leaves empty —
    all of them without a snapshot. An item with any is not producible: commerce refuses to sell it,
    manufacturing flags it `needs_attention`."""
    inputs = ((snapshot.spec or {}).get("inputs") or {}) if snapshot is not None else {}
    return [z.key for z in product.zones if z.rules.required and not _zone_filled(z.kind, inputs.get(z.key))]
