"""Commerce use cases: carts, orders, coupons, shop settings, checkout and the order status machine.

Money rules are in `luneo.commerce.pricing` (integer cents, half-up, largest-remainder
allocation); coupon usage rules in `luneo.commerce.coupons`; the status machine in
`luneo.commerce.status`. Events published: `order.paid`, `order.refunded` (see `handlers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import structlog
from sqlalchemy import Select, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload, selectinload

from luneo.catalog import public as catalog
from luneo.catalog.public import Product
from luneo.commerce import coupons as coupon_rules
from luneo.commerce import pricing
from luneo.commerce.error_codes import CommerceErrorCode, CommerceRequestErrorCode
from luneo.commerce.models import Cart, CartItem, Coupon, Order, OrderCounter, OrderItem, ShopSettings
from luneo.commerce.status import STAMPS, check_transition
from luneo.designs import public as designs
from luneo.designs.public import Snapshot
from luneo.platform.clock import utcnow
from luneo.platform.config import get_settings
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.platform.events import publish
from luneo.platform.pagination import Page, paginate
from luneo.platform.tenancy import get_or_404

log = structlog.get_logger("luneo.commerce")

MAX_QUANTITY = 1000
FIRST_ORDER_NUMBER = 1001
ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"
ORDER_CREATED = "order.created"
ORDER_CANCELLED = "order.cancelled"
ORDER_SHIPPED = "order.shipped"


# --- pricing a product (+ snapshot) ----------------------------------------------------------


@dataclass
class Priced:
    """A product line priced by the server."""

    product: Product
    snapshot: Snapshot | None
    unit_price_cents: int

    @property
    def currency(self) -> str:
        return self.product.currency.upper()


def price_items(session: Session, wanted: list[tuple[str, str | None]]) -> list[Priced]:
    """Price (product_id, snapshot_id) pairs with two queries: product price + the snapshot's zone
    add-ons. 404 for another brand's (or a missing) product or snapshot; 422 when the snapshot
    personalizes another product or the product is archived. Errors follow the input order."""
    pids = {pid for pid, _ in wanted}
    sids = {sid for _, sid in wanted if sid is not None}
    products = {
        p.id: p
        for p in session.execute(
            select(Product).where(Product.id.in_(pids)).options(lazyload(Product.zones))
        ).scalars()
    }
    snapshots = (
        {s.id: s for s in session.execute(select(Snapshot).where(Snapshot.id.in_(sids))).scalars()}
        if sids
        else {}
    )
    out = []
    for product_id, snapshot_id in wanted:
        product = products.get(product_id)
        if product is None:
            raise NotFoundError("product", product_id)
        if product.status == "archived":
            raise DomainError(
                CommerceErrorCode.PRODUCT_UNAVAILABLE, f"Product {product_id} is archived and cannot be sold."
            )
        snapshot: Snapshot | None = None
        if snapshot_id is not None:
            snapshot = snapshots.get(snapshot_id)
            if snapshot is None:
                raise NotFoundError("snapshot", snapshot_id)
            if snapshot.product_id != product.id:
                raise DomainError(
                    CommerceErrorCode.SNAPSHOT_PRODUCT_MISMATCH,
                    f"Snapshot {snapshot_id} personalizes another product, not {product_id}.",
                )
        out.append(
            Priced(
                product,
                snapshot,
                pricing.unit_price(product.price_cents, snapshot.spec if snapshot else None),
            )
        )
    return out


def price_item(session: Session, product_id: str, snapshot_id: str | None) -> Priced:
    """One product (+ snapshot) priced by the server (see `price_items`)."""
    return price_items(session, [(product_id, snapshot_id)])[0]


def personalization_required(product_id: str, name: str, zones: list[str], **extra: Any) -> DomainError:
    """`personalization_required`: the item leaves these required zones empty."""
    return DomainError(
        CommerceErrorCode.PERSONALIZATION_REQUIRED,
        f"{name or product_id} must be personalized before it is sold: "
        f"required zone(s) {', '.join(zones)} not filled by a validated snapshot.",
        product_id=product_id,
        zones=zones,
        **extra,
    )


def check_personalized(session: Session, items: list[tuple[str, str, str | None]]) -> None:
    """Refuse (`personalization_required`, naming the zones) the first of the (product id, product
    name, snapshot id) items whose product, as it is now, has required zones that the item's snapshot
    does not fill — every required zone when there is no snapshot. Snapshots are only ever made from
    specs that passed the rules, so a filled zone in a snapshot is a validated one."""
    defs: dict[str, Any] = {}
    for index, (product_id, name, snapshot_id) in enumerate(items):
        if product_id not in defs:
            defs[product_id] = catalog.product_def(session, product_id)
        if not any(z.rules.required for z in defs[product_id].zones):
            continue
        snap = designs.get_snapshot(session, snapshot_id) if snapshot_id else None
        missing = designs.unfilled_required_zones(defs[product_id], snap)
        if missing:
            raise personalization_required(product_id, name, missing, line=index, snapshot_id=snapshot_id)


def _check_priced(session: Session, priced: list[Priced]) -> None:
    check_personalized(
        session, [(p.product.id, p.product.name, p.snapshot.id if p.snapshot else None) for p in priced]
    )


def check_spec_hash(priced: Priced, spec_hash: str | None) -> None:
    """The spec_hash the shopper saw must be the snapshot's (409 `spec_mismatch` otherwise)."""
    if spec_hash is None:
        return
    if priced.snapshot is None:
        raise DomainError(
            CommerceRequestErrorCode.SPEC_MISMATCH,
            "A spec_hash is checked against a snapshot: send the snapshot_id too.",
            spec_hash=spec_hash,
        )
    if priced.snapshot.spec_hash != spec_hash:
        raise DomainError(
            CommerceErrorCode.SPEC_MISMATCH,
            "The snapshot is not the design on screen (its spec_hash differs); refresh the preview.",
            spec_hash=spec_hash,
            snapshot_spec_hash=priced.snapshot.spec_hash,
            snapshot_id=priced.snapshot.id,
        )


def _currency_mismatch(expected: str, got: str) -> DomainError:
    return DomainError(
        CommerceErrorCode.CURRENCY_MISMATCH,
        f"This product is priced in {got}; the rest is in {expected}.",
        expected=expected,
        got=got,
    )


def _check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(
            CommerceErrorCode.QUANTITY_OUT_OF_RANGE,
            f"Quantity must be between 1 and {MAX_QUANTITY}.",
            max_quantity=MAX_QUANTITY,
        )


# --- carts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CartOwner:
    """Who a cart belongs to within the session's brand."""

    kind: str  # user | shopper | key
    id: str


def find_cart(session: Session, owner: CartOwner, *, lock: bool = False) -> Cart | None:
    stmt = select(Cart).where(Cart.owner_kind == owner.kind, Cart.owner_id == owner.id)
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def get_or_create_cart(session: Session, owner: CartOwner) -> Cart:
    """The owner's cart (created once, also under concurrency), locked for this transaction."""
    cart = find_cart(session, owner, lock=True)
    if cart is not None:
        return cart
    try:
        with session.begin_nested():
            cart = Cart(owner_kind=owner.kind, owner_id=owner.id)
            session.add(cart)
    except IntegrityError:
        cart = find_cart(session, owner, lock=True)
        assert cart is not None
    return cart


def _cart_item(session: Session, owner: CartOwner, item_id: str) -> tuple[Cart, CartItem]:
    cart = find_cart(session, owner, lock=True)
    item = next((i for i in cart.items if i.id == item_id), None) if cart else None
    if cart is None or item is None:
        raise NotFoundError("cart item", item_id)
    return cart, item


def add_to_cart(
    session: Session,
    owner: CartOwner,
    product_id: str,
    quantity: int,
    snapshot_id: str | None = None,
    metadata: dict[str, str] | None = None,
    spec_hash: str | None = None,
    *,
    brand_caller: bool = False,
) -> CartItem:
    """Add a server-priced line (merged with an identical line: same product, snapshot, metadata).

    A product with required zones needs a snapshot filling them (422 `personalization_required`);
    `spec_hash` (the design the shopper saw) must be the snapshot's (409 `spec_mismatch`). The line
    records the snapshot's spec_hash. A widget shopper may only add a snapshot it made (404); a brand
    credential acting for a shopper (`brand_caller`) may add any of the brand's snapshots, which the
    shopper may then read."""
    _check_quantity(quantity)
    if snapshot_id and owner.kind == "shopper" and brand_caller:
        designs.get_snapshot(session, snapshot_id)  # 404 outside the brand
        catalog.shoppers.grant(session, owner.id, "snapshot", snapshot_id)
    if snapshot_id and owner.kind == "shopper":  # a widget shopper buys only its own snapshots
        designs.get_snapshot(session, snapshot_id, owner.id)
        designs.require_approval(session, snapshot_id, owner.id)  # 409 when the brand requires it
    priced = price_item(session, product_id, snapshot_id)
    check_spec_hash(priced, spec_hash)
    _check_priced(session, [priced])
    cart = get_or_create_cart(session, owner)
    currencies = {i.currency for i in cart.items}
    if currencies and priced.currency not in currencies:
        raise _currency_mismatch(sorted(currencies)[0], priced.currency)
    md = dict(metadata or {})
    for item in cart.items:
        if item.product_id == product_id and item.snapshot_id == snapshot_id and (item.metadata_ or {}) == md:
            _check_quantity(item.quantity + quantity)
            item.quantity += quantity
            item.unit_price_cents = priced.unit_price_cents
            cart.updated_at = utcnow()
            return item
    item = CartItem(
        cart_id=cart.id,
        product_id=product_id,
        snapshot_id=snapshot_id,
        spec_hash=priced.snapshot.spec_hash if priced.snapshot else None,
        quantity=quantity,
        unit_price_cents=priced.unit_price_cents,
        currency=priced.currency,
        metadata_=md,
    )
    cart.items.append(item)
    cart.currency = priced.currency
    cart.updated_at = utcnow()
    session.flush()
    return item


def set_quantity(session: Session, owner: CartOwner, item_id: str, quantity: int) -> CartItem:
    _check_quantity(quantity)
    cart, item = _cart_item(session, owner, item_id)
    item.quantity = quantity
    cart.updated_at = utcnow()
    return item


def remove_item(session: Session, owner: CartOwner, item_id: str) -> None:
    cart, item = _cart_item(session, owner, item_id)
    cart.items.remove(item)
    if not cart.items:
        cart.currency = None
    cart.updated_at = utcnow()


def clear_cart(session: Session, owner: CartOwner) -> None:
    cart = find_cart(session, owner, lock=True)
    if cart is not None:
        cart.items.clear()
        cart.currency = None
        cart.updated_at = utcnow()


@dataclass
class CartLine:
    item: CartItem
    priced: Priced

    @property
    def total_cents(self) -> int:
        return self.priced.unit_price_cents * self.item.quantity


@dataclass
class CartView:
    cart: Cart | None
    lines: list[CartLine] = field(default_factory=list)

    @property
    def currency(self) -> str | None:
        return self.lines[0].priced.currency if self.lines else None

    @property
    def subtotal_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)

    @property
    def item_count(self) -> int:
        return sum(line.item.quantity for line in self.lines)


def view_cart(session: Session, owner: CartOwner) -> CartView:
    """The cart re-priced now (prices follow the catalog until the order is placed)."""
    cart = find_cart(session, owner)
    if cart is None:
        return CartView(None)
    priced = price_items(session, [(i.product_id, i.snapshot_id) for i in cart.items]) if cart.items else []
    return CartView(cart, [CartLine(item, p) for item, p in zip(cart.items, priced, strict=True)])


def cart_count(session: Session, owner: CartOwner) -> tuple[int, int]:
    """(total quantity, number of lines)."""
    cart = find_cart(session, owner)
    if cart is None:
        return 0, 0
    return sum(i.quantity for i in cart.items), len(cart.items)


# --- shop settings and coupons ---------------------------------------------------------------


def shop_settings(session: Session) -> ShopSettings:
    """The brand's shipping and tax settings (defaults when never set; not persisted)."""
    row = session.execute(select(ShopSettings)).scalar_one_or_none()
    return row or ShopSettings(
        shipping_flat_cents=0,
        free_shipping_threshold_cents=None,
        tax_rate_bps=0,
        tax_inclusive=False,
        tax_shipping=True,
    )


def set_shop_settings(session: Session, values: dict[str, Any]) -> ShopSettings:
    row = session.execute(select(ShopSettings).with_for_update()).scalar_one_or_none()
    if row is None:
        row = ShopSettings()
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    return row


def rates_of(row: ShopSettings) -> pricing.ShopRates:
    return pricing.ShopRates(
        shipping_flat_cents=row.shipping_flat_cents or 0,
        free_shipping_threshold_cents=row.free_shipping_threshold_cents,
        tax_rate_bps=row.tax_rate_bps or 0,
        tax_inclusive=bool(row.tax_inclusive),
        tax_shipping=True if row.tax_shipping is None else bool(row.tax_shipping),
    )


def create_coupon(session: Session, values: dict[str, Any]) -> Coupon:
    values = {**values, "code": coupon_rules.normalize_code(values["code"])}
    if values.get("currency"):
        values["currency"] = values["currency"].upper()
    if coupon_rules.find(session, values["code"]) is not None:
        raise DomainError(CommerceErrorCode.COUPON_EXISTS, f"A coupon {values['code']} already exists.")
    coupon = Coupon(**values)
    try:
        with session.begin_nested():
            session.add(coupon)
    except IntegrityError:
        raise DomainError(
            CommerceErrorCode.COUPON_EXISTS, f"A coupon {values['code']} already exists."
        ) from None
    return coupon


def get_coupon(session: Session, coupon_id: str) -> Coupon:
    return get_or_404(session, Coupon, coupon_id, "coupon")


def list_coupons_query() -> Select[Any]:
    return select(Coupon)


# --- orders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRequest:
    product_id: str
    quantity: int
    snapshot_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Customer:
    email: str
    name: str = ""


def next_order_number(session: Session, brand_id: str) -> int:
    """The brand's next order number (1001, 1002, …): one atomic UPDATE … RETURNING on a counter row,
    which serializes concurrent creators on that row and never hands out a number twice."""
    bump = (
        update(OrderCounter)
        .where(OrderCounter.brand_id == brand_id)
        .values(last_number=OrderCounter.last_number + 1)
        .returning(OrderCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    number = session.execute(bump).scalar_one_or_none()
    if number is not None:
        return int(number)
    try:
        with session.begin_nested():
            session.execute(insert(OrderCounter).values(brand_id=brand_id, last_number=FIRST_ORDER_NUMBER))
        return FIRST_ORDER_NUMBER
    except IntegrityError:
        return int(session.execute(bump).scalar_one())


def quote(
    session: Session, lines: list[LineRequest], coupon_code: str | None = None
) -> tuple[list[Priced], pricing.Totals, Coupon | None]:
    """Price lines, check one currency and personalization, resolve the coupon (without claiming
    it) and compute totals."""
    if not lines:
        raise DomainError(CommerceErrorCode.EMPTY_ORDER, "An order needs at least one item.")
    for line in lines:
        _check_quantity(line.quantity)
    priced = price_items(session, [(ln.product_id, ln.snapshot_id) for ln in lines])
    _check_priced(session, priced)
    currency = priced[0].currency
    for p in priced[1:]:
        if p.currency != currency:
            raise _currency_mismatch(currency, p.currency)
    coupon = None
    if coupon_code:
        coupon = coupon_rules.check(coupon_rules.find(session, coupon_code), coupon_code, currency)
    totals = pricing.compute_totals(
        [pricing.LineIn(p.unit_price_cents, ln.quantity) for p, ln in zip(priced, lines, strict=True)],
        rates_of(shop_settings(session)),
        coupon_rules.discount_of(coupon) if coupon else None,
    )
    return priced, totals, coupon


def create_order(
    session: Session,
    brand_id: str,
    lines: list[LineRequest],
    customer: Customer,
    *,
    shipping_address: dict[str, Any] | None = None,
    coupon_code: str | None = None,
    source: str = "api",
    actor: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Order:
    """Write a pending order and its items, priced by the server; claims the coupon's use."""
    priced, totals, coupon = quote(session, lines, coupon_code)
    if coupon is not None:
        coupon_rules.claim(session, coupon)
    now = utcnow()
    order = Order(
        number=next_order_number(session, brand_id),
        status="pending",
        payment_status="unpaid",
        source=source,
        currency=priced[0].currency,
        subtotal_cents=totals.subtotal_cents,
        discount_cents=totals.discount_cents,
        shipping_cents=totals.shipping_cents,
        tax_cents=totals.tax_cents,
        tax_rate_bps=totals.tax_rate_bps,
        tax_inclusive=totals.tax_inclusive,
        total_cents=totals.total_cents,
        coupon_id=coupon.id if coupon else None,
        coupon_code=coupon.code if coupon else None,
        customer_email=customer.email.strip().lower(),
        customer_name=customer.name,
        shipping_address=shipping_address,
        created_by=actor,
        metadata_=dict(metadata or {}),
        history=[{"status": "pending", "at": now.isoformat(), "by": actor}],
    )
    for pos, (p, line, out) in enumerate(zip(priced, lines, totals.lines, strict=True)):
        order.items.append(
            OrderItem(
                position=pos,
                product_id=p.product.id,
                product_sku=p.product.sku,
                product_name=p.product.name,
                snapshot_id=p.snapshot.id if p.snapshot else None,
                spec_hash=p.snapshot.spec_hash if p.snapshot else None,
                quantity=line.quantity,
                price_cents=out.unit_price_cents,
                total_cents=out.total_cents,
                discount_cents=out.discount_cents,
                tax_cents=out.tax_cents,
                metadata_=dict(line.metadata),
            )
        )
    session.add(order)
    session.flush()
    publish(session, ORDER_CREATED, {"order_id": order.id, "brand_id": order.brand_id})
    return order


def create_order_from_cart(
    session: Session,
    brand_id: str,
    owner: CartOwner,
    customer: Customer,
    *,
    shipping_address: dict[str, Any] | None = None,
    coupon_code: str | None = None,
    actor: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Order:
    """The cart's lines become an order (re-priced now); the cart is emptied in the same transaction."""
    cart = find_cart(session, owner, lock=True)
    if cart is None or not cart.items:
        raise DomainError(CommerceErrorCode.CART_EMPTY, "The cart is empty.")
    if owner.kind == "shopper":  # lines added before the brand required approval are checked too
        for i in cart.items:
            designs.require_approval(session, i.snapshot_id, owner.id)
    lines = [
        LineRequest(i.product_id, i.quantity, i.snapshot_id, dict(i.metadata_ or {})) for i in cart.items
    ]
    order = create_order(
        session,
        brand_id,
        lines,
        customer,
        shipping_address=shipping_address,
        coupon_code=coupon_code,
        source="cart",
        actor=actor,
        metadata={**(metadata or {}), "cart_id": cart.id},
    )
    cart.items.clear()
    cart.currency = None
    cart.updated_at = utcnow()
    return order


def item_approvals(session: Session, order: Order) -> dict[str, designs.DesignApproval]:
    """Per order item id, the approval of its design (one query for all the items): the buying
    shopper's own when the order came from a shopper's cart, else the latest one of that design."""
    shopper: str | None = None
    cart_id = (order.metadata_ or {}).get("cart_id") if order.source == "cart" else None
    if cart_id:
        owner = session.execute(select(Cart.owner_kind, Cart.owner_id).where(Cart.id == cart_id)).first()
        if owner is not None and owner.owner_kind == "shopper":
            shopper = owner.owner_id
    found = designs.approvals_for_lines(session, [(i.snapshot_id, i.spec_hash) for i in order.items], shopper)
    return {
        i.id: found[(i.snapshot_id, i.spec_hash)]
        for i in order.items
        if i.snapshot_id and i.spec_hash and (i.snapshot_id, i.spec_hash) in found
    }


def get_order(session: Session, order_id: str, *, lock: bool = False) -> Order:
    stmt = select(Order).where(Order.id == order_id)
    if lock:
        stmt = stmt.with_for_update()
    order = session.execute(stmt).scalar_one_or_none()
    if order is None:
        raise NotFoundError("order", order_id)
    return order


def list_orders_query(
    *,
    status: str | None = None,
    email: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    search: str | None = None,
) -> Select[Any]:
    """Orders filtered; `search` is an order number (`42`, `#42`) or part of the customer's email."""
    stmt = select(Order)
    if status:
        stmt = stmt.where(Order.status == status)
    if email:
        stmt = stmt.where(Order.customer_email == email.strip().lower())
    term = (search or "").strip().lower()
    if term:
        digits = term.removeprefix("#")
        if digits.isdigit() and len(digits) <= 9:
            stmt = stmt.where(Order.number == int(digits))
        else:
            escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(Order.customer_email.like(f"%{escaped}%", escape="\\"))
    if created_from:
        stmt = stmt.where(Order.created_at >= created_from)
    if created_to:
        stmt = stmt.where(Order.created_at < created_to)
    return stmt


def list_orders(
    session: Session,
    *,
    status: str | None = None,
    search: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Any]:
    """A page of orders, newest first, with their items loaded in one more query (no N+1)."""
    stmt = list_orders_query(
        status=status, created_from=created_from, created_to=created_to, search=search
    ).options(selectinload(Order.items))
    return paginate(session, stmt, Order, cursor, limit)


# --- status changes --------------------------------------------------------------------------


def _stamp(order: Order, to: str, actor: str | None, **extra: Any) -> None:
    now = utcnow()
    order.status = to
    column = STAMPS.get(to)
    if column:
        setattr(order, column, now)
    entry = {"status": to, "at": now.isoformat(), "by": actor}
    entry.update({k: v for k, v in extra.items() if v is not None})
    order.history = [*(order.history or []), entry]


def paid_payload(order: Order) -> dict[str, Any]:
    """The `order.paid` event payload (manufacturing creates work orders from it)."""
    return {
        "order_id": order.id,
        "brand_id": order.brand_id,
        "number": order.number,
        "items": [
            {
                "order_item_id": i.id,
                "product_id": i.product_id,
                "snapshot_id": i.snapshot_id,
                "quantity": i.quantity,
            }
            for i in order.items
        ],
        "customer": {"email": order.customer_email, "name": order.customer_name},
    }


def _money(cents: int, currency: str) -> str:
    from luneo.payments.public import from_minor

    return f"{from_minor(cents, currency)} {currency}"


def email_context(order: Order) -> dict[str, Any]:
    """The order emails' context; `lang` is the shopper's locale when the order carries one
    (`metadata.locale`), else the brand's language is used."""
    cur = order.currency
    meta = order.metadata_ or {}
    return {
        "lang": meta.get("locale") or meta.get("language"),
        "order_number": order.number,
        "order_id": order.id,
        "customer_name": order.customer_name,
        "items": [
            {
                "name": i.product_name,
                "sku": i.product_sku,
                "quantity": i.quantity,
                "unit_price": _money(i.price_cents, cur),
                "total": _money(i.total_cents, cur),
            }
            for i in order.items
        ],
        "subtotal": _money(order.subtotal_cents, cur),
        "discount": _money(order.discount_cents, cur) if order.discount_cents else None,
        "coupon_code": order.coupon_code,
        "shipping": _money(order.shipping_cents, cur),
        "tax": _money(order.tax_cents, cur) if order.tax_cents else None,
        "tax_inclusive": order.tax_inclusive,
        "total": _money(order.total_cents, cur),
    }


def mark_paid(
    session: Session,
    order: Order,
    *,
    payment_id: str | None = None,
    payment_ref: str | None = None,
    actor: str | None = None,
    note: str | None = None,
    notify: bool = True,
) -> bool:
    """pending → paid with its effects (confirmation email unless `notify` is False — a sales channel
    that emails its own buyers —, `order.paid`); False when not pending."""
    if order.status != "pending":
        return False
    from luneo.notifications.public import queue_email

    _stamp(order, "paid", actor, payment_ref=payment_ref, payment_id=payment_id, note=note)
    order.payment_status = "paid"
    if payment_id:
        order.payment_id = payment_id
    if payment_ref:
        order.payment_ref = payment_ref
    session.flush()
    if notify:
        queue_email(session, order.brand_id, order.customer_email, "order_confirmation", email_context(order))
    publish(session, ORDER_PAID, paid_payload(order))
    return True


def mark_refunded(session: Session, order: Order, *, actor: str | None = None) -> bool:
    """→ refunded (from paid / in_production / shipped / delivered) and `order.refunded`; False otherwise."""
    if order.status not in ("paid", "in_production", "shipped", "delivered"):
        return False
    _stamp(order, "refunded", actor)
    order.payment_status = "refunded"
    session.flush()
    publish(session, ORDER_REFUNDED, {"order_id": order.id, "brand_id": order.brand_id})
    return True


def _refund_payment(session: Session, order: Order) -> None:
    """Refund what was captured for the order (cancel after payment, operator refund)."""
    from luneo.payments import public as payments

    for payment in payments.payments_for_reference(session, order.id, "order"):
        if payment.status in ("succeeded", "partially_refunded") and payment.payment_ref:
            payments.refund_payment(session, payment.id)


def pay_offline(
    session: Session,
    order: Order,
    *,
    amount: int | None,
    currency: str | None,
    note: str | None,
    actor: str | None,
    notify: bool = True,
) -> None:
    """Mark a pending order paid by hand: money received outside any provider. The amount (minor
    units), currency and a note are required (422 `offline_payment_required`) and must be the order's
    total (422 `offline_payment_mismatch`); the payment is recorded (provider `offline`) and audited.
    `notify=False` skips the confirmation email (a sales channel that already emailed its buyer)."""
    from luneo.payments import public as payments

    given = {"amount": amount, "currency": currency, "note": (note or "").strip() or None}
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise DomainError(
            CommerceErrorCode.OFFLINE_PAYMENT_REQUIRED,
            "Marking an order paid records an offline payment: send amount (minor units), currency and note.",
            missing=missing,
        )
    assert amount is not None and currency is not None and note is not None
    if amount != order.total_cents or currency.upper() != order.currency:
        raise DomainError(
            CommerceErrorCode.OFFLINE_PAYMENT_MISMATCH,
            f"Order {order.number} is due {order.total_cents} {order.currency} (minor units); "
            f"{amount} {currency.upper()} was given.",
            expected_amount=order.total_cents,
            expected_currency=order.currency,
        )
    payment = payments.record_offline_payment(
        session,
        order.brand_id,
        reference=order.id,
        amount=amount,
        currency=currency,
        note=note.strip(),
        actor=actor,
    )
    mark_paid(
        session,
        order,
        payment_id=payment.id,
        payment_ref=payment.payment_ref,
        actor=actor,
        note=note.strip(),
        notify=notify,
    )


def transition(
    session: Session,
    order_id: str,
    to: str,
    *,
    actor: str | None = None,
    note: str | None = None,
    tracking_number: str | None = None,
    carrier: str | None = None,
    amount: int | None = None,
    currency: str | None = None,
    notify: bool = True,
) -> Order:
    """Move an order along the status machine (409 `invalid_transition` otherwise), with side effects:
    paid → an offline payment (see `pay_offline`) + confirmation (unless `notify` is False) +
    `order.paid`; cancelled → coupon use released, captured payment refunded; refunded → captured
    payment refunded + `order.refunded`; shipped → `order_shipped` email."""
    order = get_order(session, order_id, lock=True)
    check_transition(order.status, to)
    if to == "paid":
        pay_offline(session, order, amount=amount, currency=currency, note=note, actor=actor, notify=notify)
        return order
    if to == "refunded":
        _refund_payment(session, order)
        mark_refunded(session, order, actor=actor)
        return order
    if to == "cancelled":
        was_paid = order.status == "paid"
        _stamp(order, to, actor, note=note)
        if order.coupon_id:
            coupon_rules.release(session, order.coupon_id)
        if was_paid:
            _refund_payment(session, order)
        publish(session, ORDER_CANCELLED, {"order_id": order.id, "brand_id": order.brand_id})
        return order
    _stamp(order, to, actor, note=note, tracking_number=tracking_number, carrier=carrier)
    if to == "shipped":
        from luneo.notifications.public import queue_email

        ctx = {**email_context(order), "tracking_number": tracking_number, "carrier": carrier}
        queue_email(session, order.brand_id, order.customer_email, "order_shipped", ctx)
        shipped = {"tracking_number": tracking_number, "carrier": carrier}
        publish(session, ORDER_SHIPPED, {"order_id": order.id, "brand_id": order.brand_id, **shipped})
    return order


# --- checkout --------------------------------------------------------------------------------


def _line_items(order: Order) -> list[Any]:
    """One checkout line per order item at its net price (discount and, when exclusive, tax
    included), plus a shipping line; the lines always sum to the order total."""
    from luneo.payments.public import LineItem

    out: list[Any] = []
    extra_tax = 0 if order.tax_inclusive else 1
    for item in order.items:
        net = item.total_cents - item.discount_cents + extra_tax * item.tax_cents
        name = item.product_name or item.product_sku
        if net % item.quantity == 0:
            out.append(LineItem(name=name[:250], unit_amount=net // item.quantity, quantity=item.quantity))
        else:
            out.append(LineItem(name=f"{name} × {item.quantity}"[:250], unit_amount=net, quantity=1))
    shipping_tax = order.tax_cents - sum(i.tax_cents for i in order.items)
    shipping = order.shipping_cents + extra_tax * shipping_tax
    if shipping:
        out.append(LineItem(name="Shipping", unit_amount=shipping, quantity=1))
    assert sum(li.unit_amount * li.quantity for li in out) == order.total_cents
    return out


def _default_redirect_base(session: Session, brand_id: str) -> str:
    from luneo.tenancy.public import Brand

    brand = session.get(Brand, brand_id)
    origins = [o for o in (brand.allowed_origins if brand else []) or [] if isinstance(o, str)]
    return (origins[0] if origins else get_settings().public_base_url).rstrip("/")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def start_checkout(
    session: Session,
    brand_id: str,
    order_id: str | Order,
    *,
    provider: str | None = None,
    success_url: str | None = None,
    cancel_url: str | None = None,
    allowed_origins: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Open the payment provider's hosted checkout for a pending order (reference = order id).

    `order_id` may be the Order itself when the caller just wrote it in this transaction.
    `allowed_origins` (widget callers): the redirect URLs must be on one of them.
    """
    from luneo.payments import public as payments
    from luneo.payments.public import CheckoutRequest, active_provider_name

    order = order_id if isinstance(order_id, Order) else get_order(session, order_id, lock=True)
    if order.status != "pending":
        raise DomainError(
            CommerceErrorCode.ORDER_NOT_PAYABLE,
            f"Order {order.number} is {order.status}; only pending orders are paid.",
        )
    check_personalized(session, [(i.product_id, i.product_name, i.snapshot_id) for i in order.items])
    active = active_provider_name()
    if provider is not None and provider != active:
        raise DomainError(
            CommerceErrorCode.PROVIDER_UNAVAILABLE,
            f"The {provider} provider is not the one configured here ({active}).",
            available=[active],
        )
    base = (
        ""
        if success_url and cancel_url and allowed_origins is None
        else _default_redirect_base(session, brand_id)
    )
    success = success_url or f"{base}/checkout/success?order={order.number}"
    cancel = cancel_url or f"{base}/checkout/cancel?order={order.number}"
    if allowed_origins is not None:
        for url in (success, cancel):
            if _origin(url) not in allowed_origins and _origin(url) != base:
                raise DomainError(
                    CommerceErrorCode.REDIRECT_NOT_ALLOWED,
                    f"{_origin(url)} is not an allowed origin of this key.",
                )
    request = CheckoutRequest(
        brand_id=brand_id,
        reference=order.id,
        kind="order",
        line_items=_line_items(order),
        currency=order.currency,
        customer_email=order.customer_email,
        success_url=success,
        cancel_url=cancel,
        metadata={"order_id": order.id, "brand_id": brand_id, "order_number": str(order.number)},
    )
    checkout = payments.start_checkout(session, brand_id, request)
    order.payment_id = str(checkout.raw.get("payment_id") or "") or order.payment_id
    order.payment_status = "pending"
    return {
        "checkout_url": checkout.url,
        "session_id": checkout.id,
        "provider": checkout.provider,
        "payment_id": checkout.raw.get("payment_id"),
        "order_id": order.id,
        "order_number": order.number,
        "amount_cents": checkout.amount_total,
        "currency": checkout.currency,
    }
