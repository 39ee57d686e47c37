"""Routes: cart, orders (create, from cart, list, get, transition, checkout), coupons, shop settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from luneo.commerce import service
from luneo.commerce.models import Order
from luneo.commerce.schemas import (
    CartAddIn,
    CartCheckoutIn,
    CartCountOut,
    CartItemOut,
    CartOut,
    CartQuantityIn,
    CheckoutIn,
    CheckoutOut,
    CouponIn,
    CouponOut,
    ItemApprovalOut,
    OrderFromCartIn,
    OrderIn,
    OrderItemOut,
    OrderOut,
    OrderStatus,
    OrderSummaryOut,
    ProductRef,
    ShopSettingsIn,
    ShopSettingsOut,
    SnapshotRef,
    TransitionIn,
)
from luneo.platform.auth import Tenant
from luneo.platform.deps import CartDep, OrdersFromCartDep, OrdersReadDep, OrdersWriteDep
from luneo.platform.errors import Problem
from luneo.platform.pagination import Page, paginate

router = APIRouter(tags=["commerce"])


# --- helpers ---------------------------------------------------------------------------------


def _owner(t: Tenant) -> service.CartOwner:
    """Signed-in user → their cart; widget (pk_) → the `X-Shopper-Token` cart; secret key → the
    shopper token's cart when sent, else the key's own cart."""
    p = t.principal
    if p.kind == "user":
        assert p.user_id is not None
        return service.CartOwner("user", p.user_id)
    token = t.shopper_token(required=p.kind == "publishable_key")
    if token is not None:
        return service.CartOwner("shopper", token)
    assert p.api_key_id is not None
    return service.CartOwner("key", p.api_key_id)


def _cart_out(view: service.CartView) -> CartOut:
    items = [
        CartItemOut(
            id=line.item.id,
            product_id=line.item.product_id,
            product_sku=line.priced.product.sku,
            product_name=line.priced.product.name,
            snapshot_id=line.item.snapshot_id,
            spec_hash=line.item.spec_hash
            or (line.priced.snapshot.spec_hash if line.priced.snapshot else None),
            quantity=line.item.quantity,
            unit_price_cents=line.priced.unit_price_cents,
            total_cents=line.total_cents,
            currency=line.priced.currency,
            metadata=dict(line.item.metadata_ or {}),
        )
        for line in view.lines
    ]
    return CartOut(
        id=view.cart.id if view.cart else None,
        currency=view.currency,
        items=items,
        item_count=view.item_count,
        subtotal_cents=view.subtotal_cents,
    )


def _order_out(session: Session, order: Order) -> OrderOut:
    approvals = service.item_approvals(session, order)
    items = [
        OrderItemOut(
            id=i.id,
            product=ProductRef(id=i.product_id, sku=i.product_sku, name=i.product_name),
            snapshot=SnapshotRef(id=i.snapshot_id, spec_hash=i.spec_hash) if i.snapshot_id else None,
            approval=ItemApprovalOut.model_validate(approvals[i.id], from_attributes=True)
            if i.id in approvals
            else None,
            quantity=i.quantity,
            price_cents=i.price_cents,
            total_cents=i.total_cents,
            discount_cents=i.discount_cents,
            tax_cents=i.tax_cents,
            metadata=dict(i.metadata_ or {}),
        )
        for i in order.items
    ]
    return OrderOut(
        id=order.id,
        number=order.number,
        status=order.status,
        payment_status=order.payment_status,
        source=order.source,
        currency=order.currency,
        subtotal_cents=order.subtotal_cents,
        discount_cents=order.discount_cents,
        shipping_cents=order.shipping_cents,
        tax_cents=order.tax_cents,
        tax_rate_bps=order.tax_rate_bps,
        tax_inclusive=order.tax_inclusive,
        total_cents=order.total_cents,
        coupon_code=order.coupon_code,
        customer={"email": order.customer_email, "name": order.customer_name},
        shipping_address=order.shipping_address,
        payment_id=order.payment_id,
        payment_ref=order.payment_ref,
        items=items,
        metadata=dict(order.metadata_ or {}),
        history=list(order.history or []),
        created_at=order.created_at,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        cancelled_at=order.cancelled_at,
        refunded_at=order.refunded_at,
    )


def _customer(body: OrderFromCartIn | OrderIn) -> service.Customer:
    return service.Customer(email=str(body.customer.email), name=body.customer.name)


def _address(body: OrderFromCartIn | OrderIn) -> dict[str, Any] | None:
    return body.shipping_address.model_dump(exclude_none=True) if body.shipping_address else None


# --- cart ------------------------------------------------------------------------------------


@router.get("/cart", response_model=CartOut)
def get_cart(t: CartDep) -> CartOut:
    """The caller's cart, priced by the server now."""
    return _cart_out(service.view_cart(t.session, _owner(t)))


@router.post("/cart/add", response_model=CartOut, status_code=201)
def add_to_cart(body: CartAddIn, t: CartDep) -> CartOut:
    """Add a product (and its personalization snapshot); the unit price is computed here. A product
    with required zones needs a snapshot filling them (422 `personalization_required`); `spec_hash`,
    when sent, must be the snapshot's (409 `spec_mismatch`)."""
    owner = _owner(t)
    service.add_to_cart(
        t.session,
        owner,
        body.product_id,
        body.quantity,
        body.snapshot_id,
        body.metadata,
        spec_hash=body.spec_hash,
        brand_caller=t.principal.kind != "publishable_key",
    )
    return _cart_out(service.view_cart(t.session, owner))


@router.get("/cart/count", response_model=CartCountOut)
def cart_count(t: CartDep) -> CartCountOut:
    """Number of articles (sum of quantities) and of lines."""
    count, lines = service.cart_count(t.session, _owner(t))
    return CartCountOut(count=count, lines=lines)


@router.put("/cart/{item_id}", response_model=CartOut)
def set_cart_quantity(item_id: str, body: CartQuantityIn, t: CartDep) -> CartOut:
    """Change a line's quantity (1–1000)."""
    owner = _owner(t)
    service.set_quantity(t.session, owner, item_id, body.quantity)
    return _cart_out(service.view_cart(t.session, owner))


@router.delete("/cart/{item_id}", status_code=204)
def remove_cart_item(item_id: str, t: CartDep) -> Response:
    """Remove one line."""
    service.remove_item(t.session, _owner(t), item_id)
    return Response(status_code=204)


@router.delete("/cart", status_code=204)
def clear_cart(t: CartDep) -> Response:
    """Empty the cart."""
    service.clear_cart(t.session, _owner(t))
    return Response(status_code=204)


@router.post("/cart/checkout", response_model=CheckoutOut, status_code=201)
def cart_checkout(body: CartCheckoutIn, t: CartDep) -> CheckoutOut:
    """Storefront / widget: turn the cart into an order and open its hosted checkout in one call."""
    owner = _owner(t)
    order = service.create_order_from_cart(
        t.session,
        t.brand_id,
        owner,
        _customer(body),
        shipping_address=_address(body),
        coupon_code=body.coupon_code,
        actor=t.principal.actor,
        metadata=body.metadata,
    )
    origins = t.principal.allowed_origins if t.principal.kind == "publishable_key" else None
    out = service.start_checkout(
        t.session,
        t.brand_id,
        order,
        provider=body.provider,
        success_url=str(body.success_url) if body.success_url else None,
        cancel_url=str(body.cancel_url) if body.cancel_url else None,
        allowed_origins=origins,
    )
    return CheckoutOut(**out)


# --- orders ----------------------------------------------------------------------------------


@router.post("/orders", response_model=OrderOut, status_code=201)
def create_order(body: OrderIn, t: OrdersWriteDep) -> OrderOut:
    """Create a pending order; every price is computed on the server."""
    lines = [
        service.LineRequest(i.product_id, i.quantity, i.snapshot_id, dict(i.metadata)) for i in body.items
    ]
    order = service.create_order(
        t.session,
        t.brand_id,
        lines,
        _customer(body),
        shipping_address=_address(body),
        coupon_code=body.coupon_code,
        actor=t.principal.actor,
        metadata=body.metadata,
    )
    return _order_out(t.session, order)


@router.post("/orders/from-cart", response_model=OrderOut, status_code=201)
def create_order_from_cart(body: OrderFromCartIn, t: OrdersFromCartDep) -> OrderOut:
    """Create a pending order from the caller's cart, which is emptied."""
    order = service.create_order_from_cart(
        t.session,
        t.brand_id,
        _owner(t),
        _customer(body),
        shipping_address=_address(body),
        coupon_code=body.coupon_code,
        actor=t.principal.actor,
        metadata=body.metadata,
    )
    return _order_out(t.session, order)


@router.get("/orders", response_model=Page[OrderSummaryOut])
def list_orders(
    t: OrdersReadDep,
    status: OrderStatus | None = None,
    customer_email: str | None = Query(default=None, max_length=320),
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Any]:
    """Orders, newest first; filter by status, customer email and creation date range [from, to)."""
    stmt = service.list_orders_query(
        status=status, email=customer_email, created_from=created_from, created_to=created_to
    )
    return paginate(t.session, stmt, Order, cursor, limit).map(OrderSummaryOut.model_validate)


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: str, t: OrdersReadDep) -> OrderOut:
    """One order with its items (product id, sku, name; snapshot id, spec_hash)."""
    return _order_out(t.session, service.get_order(t.session, order_id))


@router.post("/orders/{order_id}/transition", response_model=OrderOut)
def transition_order(order_id: str, body: TransitionIn, t: OrdersWriteDep) -> OrderOut:
    """Move the order along pending → paid → in_production → shipped → delivered (or cancelled /
    refunded); an invalid move is a 409 `invalid_transition`.

    `to: paid` records an offline payment (bank transfer, cash): owners and admins only (403),
    with `amount` (minor units), `currency` and `note` (422 `offline_payment_required`) equal to the
    order total (422 `offline_payment_mismatch`); it is audited as `payment.offline_recorded`."""
    if body.to == "paid" and not t.principal.can("payments:offline"):
        raise Problem(
            403, "forbidden", "Only an owner or admin can record an offline payment (payments:offline)."
        )
    order = service.transition(
        t.session,
        order_id,
        body.to,
        actor=t.principal.actor,
        note=body.note,
        tracking_number=body.tracking_number,
        carrier=body.carrier,
        amount=body.amount,
        currency=body.currency,
    )
    return _order_out(t.session, order)


@router.post("/orders/{order_id}/checkout", response_model=CheckoutOut, status_code=201)
def checkout_order(order_id: str, body: CheckoutIn, t: OrdersWriteDep) -> CheckoutOut:
    """Open the payment provider's hosted checkout for a pending order."""
    out = service.start_checkout(
        t.session,
        t.brand_id,
        order_id,
        provider=body.provider,
        success_url=str(body.success_url) if body.success_url else None,
        cancel_url=str(body.cancel_url) if body.cancel_url else None,
    )
    return CheckoutOut(**out)


# --- coupons and shop settings ---------------------------------------------------------------


@router.post("/coupons", response_model=CouponOut, status_code=201)
def create_coupon(body: CouponIn, t: OrdersWriteDep) -> Any:
    """A discount code (percent in basis points or a fixed amount in one currency)."""
    return service.create_coupon(t.session, body.model_dump())


@router.get("/coupons", response_model=Page[CouponOut])
def list_coupons(t: OrdersReadDep, cursor: str | None = None, limit: int = 50) -> Page[Any]:
    from luneo.commerce.models import Coupon

    return paginate(t.session, service.list_coupons_query(), Coupon, cursor, limit).map(
        CouponOut.model_validate
    )


@router.get("/coupons/{coupon_id}", response_model=CouponOut)
def get_coupon(coupon_id: str, t: OrdersReadDep) -> Any:
    return service.get_coupon(t.session, coupon_id)


@router.delete("/coupons/{coupon_id}", status_code=204)
def disable_coupon(coupon_id: str, t: OrdersWriteDep) -> Response:
    """Disable a coupon (kept for the orders that used it)."""
    service.get_coupon(t.session, coupon_id).active = False
    return Response(status_code=204)


@router.get("/shop/settings", response_model=ShopSettingsOut)
def get_shop_settings(t: OrdersReadDep) -> Any:
    """Shipping (flat rate, free-above threshold) and tax (basis points, inclusive or not)."""
    return service.shop_settings(t.session)


@router.put("/shop/settings", response_model=ShopSettingsOut)
def put_shop_settings(body: ShopSettingsIn, t: OrdersWriteDep) -> Any:
    return service.set_shop_settings(t.session, body.model_dump())
