"""Dashboard: credits and billing — packs bought through the dev provider, the purchase's return
and the badge event, the ledger (filters, pages, CSV export), the plan, AI costs, roles, isolation."""

from __future__ import annotations

import csv
import io
import re
from typing import Any
from urllib.parse import urlparse

import pytest

from luneo.platform.database import get_db
from luneo.platform.tenancy import bind_tenant

from .helpers import post, sign_in
from .orders_helpers import count_queries, member


def _spend(brand_id: str, n: int, times: int = 1, prefix: str = "t") -> None:
    from luneo.credits import public as credits

    with get_db().transaction() as s:
        bind_tenant(s, brand_id)
        for i in range(times):
            credits.debit(s, brand_id, n, "ai.generate", f"usage:{prefix}{i}")


def _grant(brand_id: str, n: int, ref: str) -> None:
    from luneo.credits import public as credits

    with get_db().transaction() as s:
        bind_tenant(s, brand_id)
        credits.grant(s, brand_id, n, ref)


def _balance(client: Any, brand: Any) -> int:
    return int(client.get("/api/v1/credits/balance", headers=brand.h()).json()["balance"])


def _buy(client: Any, csrf: str, pack_id: str = "pack_100") -> tuple[str, str]:
    """Post "Buy": the 303 to the dev provider's page; returns (checkout path, reference)."""
    r = post(client, "/dashboard/billing/buy", csrf, {"pack_id": pack_id})
    assert r.status_code == 303, r.text[:500]
    path = urlparse(r.headers["location"]).path
    assert path.startswith("/checkout/dev/")
    page = client.get(path)
    assert page.status_code == 200
    ref = re.search(r"Reference (cbuy_\w+)", page.text)
    assert ref
    return path, ref.group(1)


def test_buying_a_pack_with_the_dev_provider_credits_the_balance_and_the_ledger(
    client: Any, brand_a: Any
) -> None:
    csrf = sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard/billing")
    assert page.status_code == 200
    assert 'data-pack="pack_100"' in page.text and 'data-balance="50"' in page.text
    path, ref = _buy(client, csrf)
    r = client.post(f"{path}/pay", follow_redirects=False)
    assert r.status_code == 303
    back = urlparse(r.headers["location"])
    assert (
        back.path == "/dashboard/billing"
        and f"purchase={ref}" in back.query
        and "status=success" in back.query
    )
    page = client.get(f"{back.path}?{back.query}")
    assert page.status_code == 200
    assert 'data-purchase="credited"' in page.text and 'id="balance-figure"' in page.text
    assert 'data-balance="150"' in page.text
    assert _balance(client, brand_a) == 150
    partial = client.get(f"/dashboard/billing/purchases/{ref}")
    assert partial.status_code == 200 and partial.headers["HX-Trigger"] == "luneo:credits"
    assert 'hx-swap-oob="true"' in partial.text and 'data-balance="150"' in partial.text
    # the ledger shows the purchase line, the badge computes "ok" on the new baseline
    ledger = client.get("/dashboard/billing?type=purchase")
    assert ledger.text.count("data-line=") == 1 and "+100" in ledger.text
    badge = client.get("/dashboard/partials/credits")
    assert 'data-level="ok"' in badge.text and 'data-balance="150"' in badge.text


def test_a_pending_purchase_polls_and_says_nothing_to_the_badge_until_paid(client: Any, brand_a: Any) -> None:
    csrf = sign_in(client, brand_a.owner_email)
    path, ref = _buy(client, csrf, "pack_500")
    page = client.get(f"/dashboard/billing?purchase={ref}&status=success")
    assert (
        'data-purchase="pending"' in page.text and f'hx-get="/dashboard/billing/purchases/{ref}"' in page.text
    )
    partial = client.get(f"/dashboard/billing/purchases/{ref}")
    assert partial.status_code == 200 and "HX-Trigger" not in partial.headers
    client.post(f"{path}/pay", follow_redirects=False)
    partial = client.get(f"/dashboard/billing/purchases/{ref}")
    assert partial.headers["HX-Trigger"] == "luneo:credits" and 'data-balance="550"' in partial.text


def test_a_cancelled_checkout_says_so_and_adds_nothing(client: Any, brand_a: Any) -> None:
    csrf = sign_in(client, brand_a.owner_email)
    path, _ref = _buy(client, csrf)
    r = client.post(f"{path}/fail", follow_redirects=False)
    back = urlparse(r.headers["location"])
    page = client.get(f"{back.path}?{back.query}")
    assert page.status_code == 200 and "Checkout cancelled" in page.text
    assert _balance(client, brand_a) == 50


def test_an_unknown_pack_is_a_422_message_and_no_checkout(client: Any, brand_a: Any) -> None:
    csrf = sign_in(client, brand_a.owner_email)
    r = post(client, "/dashboard/billing/buy", csrf, {"pack_id": "pack_nope"})
    assert r.status_code == 422 and "This pack is not on sale." in r.text
    r = post(client, "/dashboard/billing/buy", csrf, {"pack_id": "x" * 41})
    assert r.status_code == 422


CHECKOUT_FORM = re.compile(r'<form[^>]*action="/dashboard/billing/(?:buy|plan|portal)"[^>]*>')


def test_embedded_checkout_opens_in_a_new_window_and_the_frame_refreshes_the_balance(
    client: Any, brand_a: Any
) -> None:
    """Stripe Checkout refuses to run in a frame: embedded, the pack and plan forms post into a new
    top-level window (never an `HX-Redirect` of the frame), the page says to finish there and
    refreshes the balance on return; outside a frame nothing changes."""
    csrf = sign_in(client, brand_a.owner_email)
    plain = client.get("/dashboard/billing").text
    assert CHECKOUT_FORM.findall(plain) and not any(
        'target="_blank"' in f for f in CHECKOUT_FORM.findall(plain)
    )
    assert "data-checkout-notice" not in plain and "billing.js" not in plain
    hx = post(client, "/dashboard/billing/buy", csrf, {"pack_id": "pack_100"}, headers={"HX-Request": "true"})
    assert hx.status_code == 204 and hx.headers["HX-Redirect"].startswith("http")  # unchanged

    html = client.get("/dashboard/billing?embedded=1").text
    forms = CHECKOUT_FORM.findall(html)
    assert len(forms) >= 2 and all('target="_blank"' in f and "data-checkout-window" in f for f in forms)
    notice = re.search(r"<[^>]*data-checkout-notice[^>]*>.*?</div>", html, re.S)
    assert (
        notice and "hidden" in notice.group(0) and "Complete the payment in the new window" in notice.group(0)
    )
    assert 'href="/dashboard/billing" target="_blank"' in notice.group(0)  # the link fallback
    assert "/dashboard/static/billing.js?v=" in html
    assert client.get("/dashboard/static/billing.js").status_code == 200

    client.cookies.set("luneo_embedded", "1")  # the frame's cookie (Secure: the test client is http)
    r = post(client, "/dashboard/billing/buy", csrf, {"pack_id": "pack_100"}, headers={"HX-Request": "true"})
    assert r.status_code == 303 and "HX-Redirect" not in r.headers, r.headers
    path = urlparse(r.headers["location"]).path
    assert path.startswith("/checkout/dev/")  # the dev provider's page, in the new window
    ref = re.search(r"Reference (cbuy_\w+)", client.get(path).text)
    assert ref
    back = client.post(f"{path}/pay", follow_redirects=False)
    assert urlparse(back.headers["location"]).path == "/dashboard/billing"
    assert f"purchase={ref.group(1)}" in back.headers["location"]
    plan = post(client, "/dashboard/billing/plan", csrf, {"plan": "pro"}, headers={"HX-Request": "true"})
    assert plan.status_code == 303 and urlparse(plan.headers["location"]).path.startswith("/checkout/dev/")
    # back in the frame: the balance figure and the badge refresh
    figure = client.get("/dashboard/billing/balance")
    assert figure.status_code == 200 and 'id="balance-figure"' in figure.text
    assert 'data-balance="150"' in figure.text and figure.headers["HX-Trigger"] == "luneo:credits"


def test_ledger_filters_pages_and_invalid_values(client: Any, brand_a: Any) -> None:
    _spend(brand_a.id, 1, times=30)
    sign_in(client, brand_a.owner_email)
    first = client.get("/dashboard/billing?type=usage")
    assert first.status_code == 200 and first.text.count("data-line=") == 25
    nxt = re.search(r'href="(/dashboard/billing\?[^"]*cursor=[^"#]+)#ledger" rel="next"', first.text)
    assert nxt
    second = client.get(nxt.group(1).replace("&amp;", "&"))
    assert second.text.count("data-line=") == 5
    grants = client.get("/dashboard/billing?type=grant")
    assert grants.text.count("data-line=") == 1
    future = client.get("/dashboard/billing?date_from=2099-01-01")
    assert future.status_code == 200 and "No ledger line matches these filters." in future.text
    for query, message in [
        ("type=bogus", "Unknown type."),
        ("date_from=31/01/2026", "Use a date like 2026-01-31."),
        ("date_from=2026-02-02&date_to=2026-02-01", "The end date is before the start date."),
        ("cursor=forged", "The cursor is not one this API issued."),
    ]:
        r = client.get(f"/dashboard/billing?{query}")
        assert r.status_code == 422 and message in r.text, query


def test_csv_export_has_a_header_the_filtered_rows_and_is_bounded(
    client: Any, brand_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _spend(brand_a.id, 1, times=7)
    sign_in(client, brand_a.owner_email)
    r = client.get("/dashboard/billing/ledger.csv?type=usage")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and r.headers["x-luneo-truncated"] == "false"
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == [
        "id",
        "created_at",
        "type",
        "amount",
        "balance_after",
        "operation",
        "reference",
        "actor",
    ]
    assert (
        len(rows) == 8
        and {row[2] for row in rows[1:]} == {"usage"}
        and {row[3] for row in rows[1:]} == {"-1"}
    )
    everything = list(csv.reader(io.StringIO(client.get("/dashboard/billing/ledger.csv").text)))
    assert len(everything) == 9  # + the signup grant
    from luneo.credits import public as credits

    monkeypatch.setattr(credits, "EXPORT_MAX_ROWS", 3)
    capped = client.get("/dashboard/billing/ledger.csv")
    assert (
        len(list(csv.reader(io.StringIO(capped.text)))) == 4 and capped.headers["x-luneo-truncated"] == "true"
    )
    bad = client.get("/dashboard/billing/ledger.csv?date_to=tomorrow")
    assert bad.status_code == 422 and "Use a date like" in bad.text


def test_the_plan_section_shows_limits_usage_and_starts_the_plan_checkout(client: Any, brand_a: Any) -> None:
    csrf = sign_in(client, brand_a.owner_email)
    page = client.get("/dashboard/billing")
    assert 'data-plan="free"' in page.text and 'data-plan-option="pro"' in page.text
    assert "Renders this month" in page.text and 'data-portal="none"' in page.text
    assert 'data-operation="ai.generate"' in page.text
    r = post(client, "/dashboard/billing/plan", csrf, {"plan": "pro"})
    assert r.status_code == 303 and urlparse(r.headers["location"]).path.startswith("/checkout/dev/")
    co = client.get(urlparse(r.headers["location"]).path)
    assert "49" in co.text
    bad = post(client, "/dashboard/billing/plan", csrf, {"plan": "free"})
    assert bad.status_code == 422 and "Choose a paid plan" in bad.text
    portal = post(client, "/dashboard/billing/portal", csrf)
    assert portal.status_code == 409 and "billing portal is not available" in portal.text


def test_the_badge_turns_low_under_a_fifth_of_the_last_top_up(client: Any, brand_a: Any) -> None:
    sign_in(client, brand_a.owner_email)
    _grant(brand_a.id, 100, "grant:test")  # balance 150, baseline 100: low under 20
    _spend(brand_a.id, 130)  # 20 left: not under 20
    assert 'data-level="ok"' in client.get("/dashboard/partials/credits").text
    _spend(brand_a.id, 1, prefix="u")  # 19 left
    badge = client.get("/dashboard/partials/credits").text
    assert 'data-level="low"' in badge and 'data-balance="19"' in badge
    assert client.get("/api/v1/credits/balance", headers=brand_a.h()).json()["low_balance"] is True
    _spend(brand_a.id, 19, prefix="v")
    assert 'data-level="empty"' in client.get("/dashboard/partials/credits").text


def test_another_brands_ledger_line_and_purchase_are_404(client: Any, brand_a: Any, brand_b: Any) -> None:
    from luneo.credits import public as credits

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_b.id)
        line_b = credits.ledger_page(s, brand_b.id, credits.LedgerFilter()).data[0].id
    csrf_b = sign_in(client, brand_b.owner_email)
    _path, ref_b = _buy(client, csrf_b)
    client.cookies.clear()
    sign_in(client, brand_a.owner_email)
    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        line_a = credits.ledger_page(s, brand_a.id, credits.LedgerFilter()).data[0].id
    assert client.get(f"/dashboard/billing/ledger/{line_a}").status_code == 200
    assert client.get(f"/dashboard/billing/ledger/{line_b}").status_code == 404
    assert client.get(f"/dashboard/billing/purchases/{ref_b}").status_code == 404
    assert client.get("/dashboard/billing/purchases/nope").status_code == 404
    page = client.get(f"/dashboard/billing?purchase={ref_b}&status=success")
    assert page.status_code == 200 and "data-purchase=" not in page.text
    assert brand_b.id not in client.get("/dashboard/billing/ledger.csv").text


@pytest.mark.parametrize("role", ["viewer", "production"])
def test_roles_without_credits_read_get_403_and_no_nav(client: Any, brand_a: Any, role: str) -> None:
    email = member(brand_a, role)
    csrf = sign_in(client, email)
    home = client.get("/dashboard" if role == "viewer" else "/dashboard/production")
    assert home.status_code == 200 and 'href="/dashboard/billing"' not in home.text
    assert 'id="credits-badge"' not in home.text and 'id="upsell"' not in home.text
    for path in ["/dashboard/billing", "/dashboard/billing/ledger.csv", "/dashboard/partials/credits"]:
        assert client.get(path).status_code == 403, path
    assert post(client, "/dashboard/billing/buy", csrf, {"pack_id": "pack_100"}).status_code == 403


def test_an_editor_reads_but_cannot_buy_or_change_the_plan(client: Any, brand_a: Any) -> None:
    email = member(brand_a, "editor")
    csrf = sign_in(client, email)
    page = client.get("/dashboard/billing")
    assert page.status_code == 200 and 'action="/dashboard/billing/buy"' not in page.text
    assert 'id="plan"' not in page.text  # no billing:read
    assert post(client, "/dashboard/billing/buy", csrf, {"pack_id": "pack_100"}).status_code == 403
    assert post(client, "/dashboard/billing/plan", csrf, {"plan": "pro"}).status_code == 403


def test_the_billing_page_query_count_does_not_grow_with_ledger_lines(client: Any, brand_a: Any) -> None:
    sign_in(client, brand_a.owner_email)
    client.get("/dashboard/billing")
    with count_queries() as few:
        assert client.get("/dashboard/billing").status_code == 200
    _spend(brand_a.id, 1, times=30)
    client.get("/dashboard/billing")  # warm, as before the first count
    with count_queries() as many:
        assert client.get("/dashboard/billing").status_code == 200
    assert len(many) == len(few) and len(many) <= 20, many
    with count_queries() as export:
        client.get("/dashboard/billing/ledger.csv")
    assert len(export) <= 8, export


def test_the_french_page(client: Any, brand_a: Any) -> None:
    csrf = sign_in(client, brand_a.owner_email)
    post(client, "/dashboard/language", csrf, {"lang": "fr", "next": "/dashboard/billing"})
    page = client.get("/dashboard/billing")
    assert "Crédits et facturation" in page.text or "Crédits & facturation" in page.text
    assert "Acheter" in page.text and "19,00" in page.text


def test_a_ledger_lines_details_are_named_in_the_users_language(client: Any, brand_a: Any) -> None:
    from luneo.credits import public as credits

    with get_db().transaction() as s:
        bind_tenant(s, brand_a.id)
        line = credits.grant(
            s,
            brand_a.id,
            5,
            "grant:meta-test",
            metadata={"reason": "signup", "plan": "pro", "custom_key": "x"},
        )
        line_id = line.id
    sign_in(client, brand_a.owner_email)
    fr = client.get(f"/dashboard/billing/ledger/{line_id}", headers={"Accept-Language": "fr"})
    assert fr.status_code == 200
    assert "<dt>Motif</dt>" in fr.text and "<dd>Inscription</dd>" in fr.text and "<dt>Formule</dt>" in fr.text
    assert "<dt>reason</dt>" not in fr.text and "<dt>plan</dt>" not in fr.text
    assert "<dt>Custom key</dt>" in fr.text  # an unknown key: readable, never a raw identifier
    en = client.get(f"/dashboard/billing/ledger/{line_id}").text
    assert "<dt>Reason</dt>" in en and "<dd>Sign-up</dd>" in en and "<dt>reason</dt>" not in en
