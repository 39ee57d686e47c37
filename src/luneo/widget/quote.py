"""The widget's live price: base price + every add-on, priced by commerce's own rules, formatted
for the shopper's locale with Babel.

A quote equals the cart line for the same inputs: a valid design is priced from the very spec a
snapshot would freeze (`designs.check_inputs`), with `commerce.public.unit_price`. An invalid
design is still quoted, for its valid zones only (the zones with a violation add nothing), and
the answer says `valid: false` with the violations: the shopper sees the price move as they type
and the reason the cart will refuse the design until it is fixed.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision
from sqlalchemy.orm import Session

from luneo.catalog import public as catalog
from luneo.commerce import public as commerce
from luneo.design.rules import validate_inputs
from luneo.designs import public as designs
from luneo.platform.domain_errors import NotFoundError
from luneo.widget.schemas import Money, QuoteLine, QuoteOut, QuoteViolation

DEFAULT_LOCALE = "en"
MAX_ACCEPT_LANGUAGE_TAGS = 16


def parse_locale(tag: str) -> Locale | None:
    """A BCP 47 / POSIX tag (`fr-FR`, `de_CH`, `ja`) → Babel locale; None when Babel has no data."""
    try:
        return Locale.parse(tag.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def negotiate_locale(accept_language: str | None) -> Locale:
    """The best locale of an `Accept-Language` header Babel knows (q-ordered), else English."""
    tags: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")[:MAX_ACCEPT_LANGUAGE_TAGS]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and tag != "*" and q > 0:
            tags.append((-q, i, tag))
    for _q, _i, tag in sorted(tags):
        found = parse_locale(tag)
        if found is not None:
            return found
    return Locale.parse(DEFAULT_LOCALE)


def locale_tag(locale: Locale) -> str:
    return str(locale).replace("_", "-")


def money(minor: int, currency: str, locale: Locale) -> Money:
    """Integer minor units (cents; yen for JPY: Babel's ISO 4217 digits) and their local text."""
    major = Decimal(minor).scaleb(-get_currency_precision(currency))
    return Money(minor=minor, formatted=format_currency(major, currency, locale=locale))


def _priced_spec(
    session: Session, product_id: str, inputs: dict[str, Any], shopper: str | None
) -> tuple[dict[str, Any], list[QuoteViolation], list[QuoteViolation]]:
    """The spec to price: the frozen spec of a valid design (the snapshot's, byte for byte), or the
    product with only the valid zones' normalised inputs; plus violations and warnings."""
    result = designs.check_inputs(session, product_id, inputs, shopper)
    warnings = [QuoteViolation.model_validate(w.as_dict()) for w in result.warnings]
    if result.ok:
        return json.loads(result.canonical), [], warnings
    product = catalog.product_def(session, product_id)
    res = designs.BrandResources(session, shopper)
    outcome = validate_inputs(
        product,
        inputs,
        font_data_lookup=res.font_bytes,
        asset_lookup=res.asset,
        **res.word_lists(),
    )
    refused = {v.zone for v in outcome.violations}
    valid_inputs = {k: v.model_dump(mode="json") for k, v in outcome.resolved.items() if k not in refused}
    spec = {"product": product.model_dump(mode="json"), "inputs": valid_inputs}
    violations = [QuoteViolation.model_validate(v.as_dict()) for v in result.violations]
    return spec, violations, warnings


def quote(
    session: Session,
    product_id: str,
    inputs: dict[str, Any],
    *,
    quantity: int,
    locale: Locale,
    shopper: str | None,
) -> QuoteOut:
    """Base price, add-on lines, unit price and total for `quantity` (404: not an active product
    of the session's brand)."""
    product = catalog.get_product(session, product_id)
    if product.status != "active":
        raise NotFoundError("product", product_id)
    currency = product.currency.upper()
    spec, violations, warnings = _priced_spec(session, product_id, inputs, shopper)
    zones = {z["key"]: z for z in spec["product"]["zones"]}
    lines: list[QuoteLine] = []
    for add_on in commerce.zone_add_ons(spec):
        zone = zones[add_on.zone]
        label = zone.get("label") or add_on.zone
        if add_on.flat_cents:
            kind = "photo" if zone.get("kind") == "image" else "zone"
            lines.append(_line(add_on.zone, label, kind, 1, add_on.flat_cents, currency, locale))
        if add_on.per_char_cents and add_on.chars:
            lines.append(
                _line(add_on.zone, label, "per_char", add_on.chars, add_on.per_char_cents, currency, locale)
            )
    unit = commerce.unit_price(product.price_cents, spec)
    return QuoteOut(
        product_id=product.id,
        currency=currency,
        locale=locale_tag(locale),
        quantity=quantity,
        valid=not violations,
        base=money(product.price_cents, currency, locale),
        lines=lines,
        unit_price=money(unit, currency, locale),
        total=money(unit * quantity, currency, locale),
        violations=violations,
        warnings=warnings,
    )


def _line(
    zone: str, label: str, kind: str, count: int, unit: int, currency: str, locale: Locale
) -> QuoteLine:
    return QuoteLine(
        zone=zone,
        label=label,
        kind=kind,  # type: ignore[arg-type]
        count=count,
        unit=money(unit, currency, locale),
        amount=money(unit * count, currency, locale),
    )
