"""The transactional emails Luneo sends, with sample data for previews (the dashboard's
`/dashboard/emails`): which moment sends each, and whether it is essential (no unsubscribe)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from luneo.notifications.models import OPT_OUT_CATEGORIES

_ITEMS = [
    {
        "name": "Engraved pendant",
        "sku": "DEMO-PENDANT",
        "quantity": 1,
        "unit_price": "€39.00",
        "total": "€39.00",
    },
    {"name": "Photo mug", "sku": "DEMO-MUG", "quantity": 2, "unit_price": "€14.50", "total": "€29.00"},
]
_LINK = "https://app.luneo.example/sample"
#: A self-contained sample image (a preview must not fetch anything from elsewhere).
SAMPLE_IMAGE = (
    "data:image/svg+xml;charset=utf-8,"
    "%3Csvg xmlns='http://www.w3.org/2000/svg' width='544' height='300' viewBox='0 0 544 300'%3E"
    "%3Crect width='544' height='300' fill='%23eef2f7'/%3E"
    "%3Ccircle cx='272' cy='150' r='90' fill='none' stroke='%231f3a5f' stroke-width='10'/%3E"
    "%3Ctext x='272' y='168' font-family='Georgia' font-size='56' text-anchor='middle'"
    " fill='%231f3a5f'%3EA%3C/text%3E"
    "%3C/svg%3E"
)


@dataclass(frozen=True)
class EmailSpec:
    """One email: its template, when it is sent (English; the dashboard translates) and a sample."""

    template: str
    title: str
    moment: str
    sample: dict[str, Any] = field(default_factory=dict)

    @property
    def essential(self) -> bool:
        """Essential emails carry no `List-Unsubscribe` and cannot be opted out of."""
        return self.template not in OPT_OUT_CATEGORIES


EMAILS: tuple[EmailSpec, ...] = (
    EmailSpec(
        "order_confirmation",
        "Order confirmation",
        "An order is paid.",
        {
            "order_number": 1042,
            "customer_name": "Ada",
            "items": _ITEMS,
            "subtotal": "€68.00",
            "discount": None,
            "coupon_code": None,
            "shipping": "€4.90",
            "tax": "€12.15",
            "tax_inclusive": True,
            "total": "€72.90",
        },
    ),
    EmailSpec(
        "order_shipped",
        "Order shipped",
        "An order moves to shipped (with its tracking number and carrier when given).",
        {
            "order_number": 1042,
            "customer_name": "Ada",
            "items": _ITEMS,
            "tracking_number": "6A12345678901",
            "carrier": "Colissimo",
        },
    ),
    EmailSpec(
        "production_error",
        "Production error",
        "A production pack cannot be made, or print checks block a work order.",
        {
            "reason": "export_failed",
            "work_order_id": "wo_sample",
            "order_number": 1042,
            "product_sku": "DEMO-PENDANT",
            "quantity": 1,
            "production_method": "engrave",
            "error": "the font file is missing",
            "issues": [],
        },
    ),
    EmailSpec(
        "render_ready",
        "Render ready",
        "A final render someone asked for is ready.",
        {
            "render_id": "rnd_sample",
            "image_url": SAMPLE_IMAGE,
            "files": [
                {"name": "print", "url": f"{_LINK}/print.png"},
                {"name": "svg", "url": f"{_LINK}/design.svg"},
            ],
            "product_name": "Engraved pendant",
            "link_days": 7,
        },
    ),
    EmailSpec(
        "low_credits",
        "Low credits",
        "The AI credit balance falls under a fifth of the last top-up.",
        {"balance": 18, "last_topup": 100, "threshold": 20, "buy_url": f"{_LINK}/billing"},
    ),
    EmailSpec(
        "invitation",
        "Invitation",
        "Someone is invited to join the brand.",
        {
            "accept_url": f"{_LINK}/invite",
            "role": "editor",
            "name": "Grace",
            "expires_at": "2026-12-07 09:00 UTC",
        },
    ),
    EmailSpec(
        "email_verification",
        "Email verification",
        "Someone signs up and must confirm their address.",
        {"verify_url": f"{_LINK}/verify", "hours": 48},
    ),
    EmailSpec(
        "password_reset",
        "Password reset",
        "Someone asks for a new password.",
        {"reset_url": f"{_LINK}/reset", "minutes": 30},
    ),
)


def email_spec(template: str) -> EmailSpec | None:
    return next((e for e in EMAILS if e.template == template), None)
