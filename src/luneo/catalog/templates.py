"""Product templates: a brand's preset designs of a product that a shopper can start from.

A template's `inputs` are exactly what the widget sends for a design; they are checked with the
very validator the widget's previews and snapshots go through (`designs.check_inputs`), so a
template the brand saves is a design a shopper can order as is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from luneo.catalog.error_codes import CatalogErrorCode
from luneo.catalog.models import Product, ProductTemplate
from luneo.catalog.schemas import MAX_TEMPLATES, TemplateIn, TemplatePatch
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.tenancy import get_or_404


def _violation(field: str, type_: str, message: str) -> dict[str, Any]:
    return {"loc": field.split("."), "field": field, "type": type_, "message": message}


def check_template_inputs(session: Session, product_id: str, inputs: dict[str, Any]) -> str:
    """The spec hash of `inputs` on the product, or 422 `invalid_template` with per-field errors
    (`inputs.<zone>`): the same rules the widget and snapshots apply. Image zones are refused (a
    template is shared by every shopper, a photo belongs to one)."""
    # designs imports the catalog: imported here, when called, not when the catalog loads
    from luneo.designs.public import check_inputs

    errors = [
        _violation(f"inputs.{key}", "image_not_allowed", "A template cannot hold a photo.")
        for key, value in inputs.items()
        if isinstance(value, dict) and value.get("kind") == "image"
    ]
    result = None
    if not errors:
        result = check_inputs(session, product_id, inputs)
        for v in result.violations:
            d = v.as_dict()
            field = f"inputs.{d['zone']}" if d.get("zone") else "inputs"
            errors.append(
                {**_violation(field, str(d.get("code")), str(d.get("message"))), "params": d.get("params")}
            )
    if errors or result is None or result.spec_hash is None:
        raise DomainError(
            CatalogErrorCode.INVALID_TEMPLATE,
            "The template breaks the product's rules.",
            errors=errors or [_violation("inputs", "invalid", "The design is not valid.")],
        )
    return result.spec_hash


def _product(session: Session, product_id: str) -> Product:
    return get_or_404(session, Product, product_id, "product")


def list_templates(session: Session, product_id: str, *, active_only: bool = False) -> list[ProductTemplate]:
    """A product's templates in display order (404 for another brand's product)."""
    _product(session, product_id)
    q = select(ProductTemplate).where(ProductTemplate.product_id == product_id)
    if active_only:
        q = q.where(ProductTemplate.active.is_(True))
    return list(
        session.execute(
            q.order_by(ProductTemplate.position, ProductTemplate.created_at, ProductTemplate.id)
        ).scalars()
    )


def get_template(session: Session, product_id: str, template_id: str) -> ProductTemplate:
    """One template of the product (404 when missing, another product's or another brand's)."""
    _product(session, product_id)
    row = session.execute(
        select(ProductTemplate).where(
            ProductTemplate.id == template_id, ProductTemplate.product_id == product_id
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError("template", template_id)
    return row


def create_template(session: Session, product_id: str, data: TemplateIn) -> ProductTemplate:
    """Add a template at the end of the product's list (≤ 24 per product: 409 `too_many_templates`)."""
    product = _product(session, product_id)
    count = session.execute(
        select(func.count(ProductTemplate.id)).where(ProductTemplate.product_id == product.id)
    ).scalar_one()
    if count >= MAX_TEMPLATES:
        raise DomainError(
            CatalogErrorCode.TOO_MANY_TEMPLATES,
            f"A product has at most {MAX_TEMPLATES} templates.",
            limit=MAX_TEMPLATES,
        )
    check_template_inputs(session, product.id, data.inputs)
    top = session.execute(
        select(func.max(ProductTemplate.position)).where(ProductTemplate.product_id == product.id)
    ).scalar_one()
    row = ProductTemplate(
        product_id=product.id,
        name=data.name.strip() or data.name,
        inputs=data.inputs,
        active=data.active,
        position=0 if top is None else int(top) + 1,
    )
    session.add(row)
    session.flush()
    return row


def update_template(
    session: Session, product_id: str, template_id: str, data: TemplatePatch
) -> ProductTemplate:
    """Rename, replace the inputs (checked again), (de)activate or move a template."""
    row = get_template(session, product_id, template_id)
    if data.inputs is not None:
        check_template_inputs(session, product_id, data.inputs)
        row.inputs = data.inputs
    if data.name is not None:
        row.name = data.name.strip() or data.name
    if data.active is not None:
        row.active = data.active
    if data.position is not None:
        move_template(session, product_id, template_id, data.position)
    session.flush()
    return row


def reorder_templates(session: Session, product_id: str, template_ids: list[str]) -> list[ProductTemplate]:
    """Put the templates in this order (ids not named keep their relative order, after these)."""
    rows = list_templates(session, product_id)
    by_id = {r.id: r for r in rows}
    unknown = [i for i in template_ids if i not in by_id]
    if unknown:
        raise NotFoundError("template", unknown[0])
    named = list(dict.fromkeys(template_ids))
    ordered = [by_id[i] for i in named] + [r for r in rows if r.id not in set(named)]
    for pos, r in enumerate(ordered):
        r.position = pos
    session.flush()
    return ordered


def move_template(
    session: Session, product_id: str, template_id: str, position: int
) -> list[ProductTemplate]:
    """Move one template to `position` (clamped to the list), the others closing up around it."""
    ids = [r.id for r in list_templates(session, product_id)]
    if template_id not in ids:
        raise NotFoundError("template", template_id)
    ids.remove(template_id)
    ids.insert(max(0, min(position, len(ids))), template_id)
    return reorder_templates(session, product_id, ids)


def delete_template(session: Session, product_id: str, template_id: str) -> None:
    """Delete a template; the others close up."""
    row = get_template(session, product_id, template_id)
    session.delete(row)
    session.flush()
    reorder_templates(session, product_id, [])
