"""Dashboard: analytics — the widget funnel (loaded → validated → preview → snapshot → add to
cart → order) for a date range and optionally one product, as a server-rendered, accessible SVG
bar chart with a data table, one funnel row per product, and the revenue and paid orders per UTC
day (two SVG charts, money in the brand's currency).

The figures come from `luneo.analytics.public.widget_funnel` and
`luneo.commerce.public.revenue_per_day` (aggregated queries); this module only lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from babel.dates import format_date
from fastapi.responses import Response

from luneo.analytics import public as analytics
from luneo.commerce import public as commerce
from luneo.dashboard import i18n
from luneo.dashboard.forms import parse_day
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import Problem

AnalyticsRead = Annotated[Page, page_dep("analytics:read")]

DEFAULT_CURRENCY = "EUR"
# Funnel chart geometry (SVG user units).
F_WIDTH, F_LABEL, F_BAR, F_ROW, F_BAR_H = 640, 132, 360, 46, 28
# Day charts geometry.
D_WIDTH, D_HEIGHT, D_LEFT, D_RIGHT, D_TOP, D_BOTTOM = 720, 220, 72, 12, 12, 30


@dataclass
class Bar:
    """One drawn bar: geometry plus the texts it carries."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    note: str


def _step_labels(page: Page) -> dict[str, str]:
    return {
        "loaded": page.gettext("Loaded"),
        "validated": page.gettext("Validated"),
        "preview": page.gettext("Preview"),
        "snapshot": page.gettext("Snapshot"),
        "add_to_cart": page.gettext("Add to cart"),
        "order": page.gettext("Order"),
    }


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _funnel_bars(page: Page, steps: list[Any]) -> list[Bar]:
    labels = _step_labels(page)
    top = max([s.count for s in steps] + [1])
    bars = []
    for i, s in enumerate(steps):
        width = F_BAR * s.count / top
        bars.append(
            Bar(
                x=F_LABEL,
                y=i * F_ROW + (F_ROW - F_BAR_H) / 2,
                width=round(max(width, 2 if s.count else 0), 1),
                height=F_BAR_H,
                label=labels[s.step],
                value=i18n.number(s.count, page.locale),
                note=_percent(s.conversion),
            )
        )
    return bars


def _days(date_from: date, date_to: date) -> list[date]:
    return [date_from + timedelta(days=i) for i in range((date_to - date_from).days + 1)]


def _day_bars(days: list[date], values: list[int]) -> list[Bar]:
    inner_w = D_WIDTH - D_LEFT - D_RIGHT
    inner_h = D_HEIGHT - D_TOP - D_BOTTOM
    step = inner_w / max(len(days), 1)
    top = max([*values, 1])
    bars = []
    for i, (day, v) in enumerate(zip(days, values, strict=True)):
        h = inner_h * v / top
        bars.append(
            Bar(
                x=round(D_LEFT + i * step + step * 0.12, 2),
                y=round(D_TOP + inner_h - h, 2),
                width=round(max(step * 0.76, 0.5), 2),
                height=round(h, 2),
                label=day.isoformat(),
                value=str(v),
                note="",
            )
        )
    return bars


def _line_points(days: list[date], values: list[int]) -> str:
    inner_w = D_WIDTH - D_LEFT - D_RIGHT
    inner_h = D_HEIGHT - D_TOP - D_BOTTOM
    step = inner_w / max(len(days), 1)
    top = max([*values, 1])
    return " ".join(
        f"{D_LEFT + i * step + step / 2:.1f},{D_TOP + inner_h - inner_h * v / top:.1f}"
        for i, v in enumerate(values)
    )


def _revenue(page: Page, date_from: date, date_to: date) -> dict[str, Any]:
    rows = commerce.revenue_per_day(page.session, page.brand_id, date_from, date_to)
    by_currency: dict[str, int] = {}
    for r in rows:
        by_currency[r.currency] = by_currency.get(r.currency, 0) + r.revenue_cents
    currency = max(by_currency, key=lambda c: by_currency[c]) if by_currency else DEFAULT_CURRENCY
    days = _days(date_from, date_to)
    revenue = dict.fromkeys(days, 0)
    orders = dict.fromkeys(days, 0)
    for r in rows:
        orders[r.day] = orders.get(r.day, 0) + r.orders
        if r.currency == currency:
            revenue[r.day] = revenue.get(r.day, 0) + r.revenue_cents
    revenue_values = [revenue[d] for d in days]
    order_values = [orders[d] for d in days]
    ticks = [days[0], days[len(days) // 2], days[-1]] if len(days) > 2 else days
    step = (D_WIDTH - D_LEFT - D_RIGHT) / max(len(days), 1)
    return {
        "currency": currency,
        "rows": rows,
        "other_currencies": sorted(c for c in by_currency if c != currency),
        "total": by_currency.get(currency, 0),
        "orders_total": sum(order_values),
        "revenue_bars": _day_bars(days, revenue_values),
        "revenue_max": max([*revenue_values, 0]),
        "orders_points": _line_points(days, order_values),
        "orders_max": max([*order_values, 0]),
        "x_ticks": [(round(D_LEFT + days.index(d) * step + step / 2, 1), d) for d in ticks],
    }


@router.get("/analytics")
def analytics_page(
    page: AnalyticsRead, product_id: str = "", date_from: str = "", date_to: str = ""
) -> Response:
    """The funnel and the revenue per day for the filters (default: the last 30 days, all products)."""
    products = analytics.product_options(page.session, page.brand_id)
    if product_id and product_id not in {pid for pid, _ in products}:
        raise Problem(404, "not_found", "No such product.")
    errors: dict[str, str] = {}
    start = parse_day(page, date_from, "date_from", errors)
    end = parse_day(page, date_to, "date_to", errors)
    context: dict[str, Any] = {
        "products": products,
        "names": dict(products),
        "filters": {"product_id": product_id, "date_from": date_from, "date_to": date_to},
        "errors": errors,
        "funnel": None,
        "labels": _step_labels(page),
        "geo": {
            "fw": F_WIDTH,
            "fh": F_ROW * len(analytics.STEP_NAMES),
            "flabel": F_LABEL,
            "fbar": F_BAR,
            "frow": F_ROW,
            "dw": D_WIDTH,
            "dh": D_HEIGHT,
            "dleft": D_LEFT,
            "dright": D_RIGHT,
            "dtop": D_TOP,
            "dbottom": D_BOTTOM,
        },
        "percent": _percent,
        "day": lambda d, fmt="medium": format_date(d, format=fmt, locale=page.locale),
    }
    if not errors:
        try:
            funnel = analytics.widget_funnel(page.session, page.brand_id, start, end, product_id or None)
        except DomainError as exc:
            errors["date_to"] = exc.detail or str(exc.code)
        else:
            context.update(
                funnel=funnel,
                bars=_funnel_bars(page, funnel.steps),
                revenue=_revenue(page, funnel.date_from, funnel.date_to),
            )
    return page.render("analytics/index.html", status_code=422 if errors else 200, **context)
