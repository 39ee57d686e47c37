"""Dashboard: widget & integrations (API keys shown once, revoke, origins, widget settings, the
embed snippet and its live preview), tenant isolation and roles."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.domain_errors import DomainError
from luneo.platform.tenancy import bind_system, bind_tenant

from .helpers import post, sign_in

PASSWORD = "correct horse battery"
PK = re.compile(r"pk_live_[A-Za-z0-9_-]{20,}")


def _member(brand: Any, email: str, role: str) -> str:
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email=email, password=PASSWORD)
        bind_tenant(s, brand.id)
        service.add_member(s, brand_id=brand.id, user_id=user.id, role=role)
    return email


def _brand(brand_id: str) -> Any:
    from luneo.tenancy.models import Brand

    with get_db().transaction(write=False) as s:
        bind_system(s)
        b = s.get(Brand, brand_id)
        return {"origins": list(b.allowed_origins), "settings": dict(b.settings or {})}


def _keys(brand_id: str) -> list[Any]:
    from luneo.tenancy.models import ApiKey

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return list(s.execute(select(ApiKey).order_by(ApiKey.created_at)).scalars())


def _audit(brand_id: str) -> list[str]:
    from luneo.platform.models import AuditEvent

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return [a for (a,) in s.execute(select(AuditEvent.action))]


@pytest.fixture
def owner(client: Any, brand_a: Any) -> str:
    return sign_in(client, brand_a.owner_email)


def test_a_new_key_is_shown_once_then_only_masked(client: Any, brand_a: Any, owner: str) -> None:
    page = client.get("/dashboard/integrations")
    assert page.status_code == 200 and "API keys" in page.text
    r = post(
        client,
        "/dashboard/integrations/keys",
        owner,
        {"kind": "publishable", "name": "Main storefront", "origins": "https://shop.alpha.example"},
    )
    assert r.status_code == 201, r.text[:500]
    raw = PK.search(r.text.split('id="new-key"')[1]).group(0)  # type: ignore[union-attr]
    assert "shown only once" in r.text and 'data-copy="#new-key"' in r.text
    key = next(k for k in _keys(brand_a.id) if k.name == "Main storefront")
    assert key.kind == "publishable" and key.allowed_origins == ["https://shop.alpha.example"]
    assert raw.startswith(key.prefix)
    again = client.get("/dashboard/integrations")
    assert raw not in again.text and f"{key.prefix}…" in again.text and "Main storefront" in again.text
    assert "api_key.created" in _audit(brand_a.id)
    # the key works from its own origin
    h = {"Authorization": f"Bearer {raw}", "Origin": "https://shop.alpha.example"}
    assert client.get("/api/v1/me", headers=h).status_code == 200


def test_a_secret_key_and_a_bad_key_origin(client: Any, brand_a: Any, owner: str) -> None:
    r = post(client, "/dashboard/integrations/keys", owner, {"kind": "secret", "name": "ERP"})
    assert r.status_code == 201 and re.search(r"sk_live_[A-Za-z0-9_-]{20,}", r.text)
    before = len(_keys(brand_a.id))
    bad = post(
        client,
        "/dashboard/integrations/keys",
        owner,
        {"kind": "publishable", "name": "x", "origins": "https://shop.example/path"},
    )
    assert bad.status_code == 422 and "no path" in bad.text
    # The API's message is next to the field it is about, which points to it.
    origins = re.search(r'<textarea id="f-key-origins"[^>]*>', bad.text)
    assert origins and 'aria-invalid="true"' in origins.group(0)
    assert "f-key-origins-error" in origins.group(0)
    assert re.search(r'id="f-key-origins-error"[^>]*>[^<]*no path', bad.text)
    assert 'id="key-error"' not in bad.text and "alert--error" not in bad.text
    assert len(_keys(brand_a.id)) == before
    odd = post(client, "/dashboard/integrations/keys", owner, {"kind": "root"})
    assert odd.status_code == 422 and len(_keys(brand_a.id)) == before
    assert 'id="f-key-kind-error"' in odd.text
    radio = re.search(r'<input type="radio" name="kind" value="publishable"[^>]*>', odd.text)
    assert radio and 'aria-invalid="true"' in radio.group(0) and "f-key-kind-error" in radio.group(0)


def test_revoking_a_key_asks_first_then_the_key_stops_working(client: Any, brand_a: Any, owner: str) -> None:
    key = next(k for k in _keys(brand_a.id) if k.kind == "publishable")
    confirm = client.get(f"/dashboard/integrations/keys/{key.id}/revoke")
    assert confirm.status_code == 200 and "Revoke this key?" in confirm.text
    assert _keys(brand_a.id)[-1].revoked_at is None  # asking changes nothing
    r = post(client, f"/dashboard/integrations/keys/{key.id}/revoke", owner)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/integrations?saved=revoked"
    assert next(k for k in _keys(brand_a.id) if k.id == key.id).revoked_at is not None
    assert client.get("/api/v1/me", headers=brand_a.h("pk")).status_code == 401
    assert "api_key.revoked" in _audit(brand_a.id)
    page = client.get(r.headers["location"])
    assert "The key was revoked" in page.text and "revoked" in page.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://Shop.Example", "https://shop.example"),
        ("https://shop.example/", "https://shop.example"),
        ("https://shop.example:8443", "https://shop.example:8443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://shop.example", None),
        ("https://shop.example/path", None),
        ("https://shop.example?x=1", None),
        ("shop.example", None),
        ("https://*.shop.example", None),
        ("https://user:pw@shop.example", None),
        ("https://shop.example:99999", None),
        ("ftp://shop.example", None),
    ],
)
def test_origin_rules(value: str, expected: str | None) -> None:
    from luneo.tenancy.public import normalize_origin

    if expected is None:
        with pytest.raises(DomainError) as exc:
            normalize_origin(value)
        assert exc.value.code.value == "invalid_origin"
    else:
        assert normalize_origin(value) == expected


def test_allowed_origins_are_validated_with_the_error_next_to_the_field(
    client: Any, brand_a: Any, owner: str
) -> None:
    r = post(
        client,
        "/dashboard/integrations/origins",
        owner,
        {"origins": "https://ok.example\nhttp://shop.example/cart"},
    )
    assert r.status_code == 422
    error = re.search(r'<p class="error" id="f-origins-error"[^>]*>([^<]+)</p>', r.text)
    assert error and "http://shop.example/cart" in error.group(1)
    assert 'aria-describedby="f-origins-hint f-origins-error" aria-invalid="true"' in r.text
    assert "http://shop.example/cart" in r.text.split('id="f-origins"')[1].split("</textarea>")[0]
    assert _brand(brand_a.id)["origins"] == ["https://alpha.example"]  # nothing written
    ok = post(
        client,
        "/dashboard/integrations/origins",
        owner,
        {"origins": "https://Shop.Alpha.example/\nhttp://localhost:3000\nhttps://shop.alpha.example"},
    )
    assert ok.status_code == 303
    assert _brand(brand_a.id)["origins"] == ["https://shop.alpha.example", "http://localhost:3000"]
    assert "brand.origins_changed" in _audit(brand_a.id)


def test_widget_settings_are_saved_and_validated(client: Any, brand_a: Any, owner: str) -> None:
    page = client.get("/dashboard/integrations")
    assert 'name="require_design_approval"' in page.text and 'value="background_removal"' in page.text
    r = post(
        client,
        "/dashboard/integrations/settings",
        owner,
        {
            "require_design_approval": "on",
            "shopper_ai_tools": ["background_removal"],
            "shopper_ai_daily_limit": "5",
        },
    )
    assert r.status_code == 303, r.text[:400]
    settings = _brand(brand_a.id)["settings"]
    assert settings["require_design_approval"] is True
    assert settings["shopper_ai_tools"] == ["background_removal"]
    assert settings["shopper_ai_daily_limit"] == 5
    page = client.get(r.headers["location"])
    assert "Widget settings saved." in page.text
    assert re.search(r'name="require_design_approval"\s+checked', page.text)
    bad = post(
        client,
        "/dashboard/integrations/settings",
        owner,
        {"shopper_ai_tools": ["mind_reading"], "shopper_ai_daily_limit": "5"},
    )
    assert bad.status_code == 422 and 'id="settings-error"' not in bad.text and "alert--error" not in bad.text
    tool = re.search(r'<input type="checkbox" name="shopper_ai_tools"[^>]*>', bad.text)
    assert tool and 'aria-invalid="true"' in tool.group(0) and "f-ai-tools-error" in tool.group(0)
    assert re.search(r'id="f-ai-tools-error" role="alert">[^<]*shopper_ai_tools', bad.text)
    assert 'id="f-shopper_ai_daily_limit-error"' not in bad.text
    big = post(client, "/dashboard/integrations/settings", owner, {"shopper_ai_daily_limit": "5000"})
    assert big.status_code == 422 and "alert--error" not in big.text
    limit = re.search(r'<input id="f-shopper_ai_daily_limit"[^>]*>', big.text)
    assert limit and 'aria-invalid="true"' in limit.group(0) and 'value="5000"' in limit.group(0)
    assert "f-shopper_ai_daily_limit-error" in limit.group(0)
    assert re.search(r'id="f-shopper_ai_daily_limit-error">[^<]*0 to 1000', big.text)
    typo = post(client, "/dashboard/integrations/settings", owner, {"shopper_ai_daily_limit": "ten"})
    assert typo.status_code == 422 and 'id="f-shopper_ai_daily_limit-error"' in typo.text
    assert _brand(brand_a.id)["settings"] == settings  # nothing written
    off = post(client, "/dashboard/integrations/settings", owner, {"shopper_ai_daily_limit": "3"})
    assert off.status_code == 303
    assert _brand(brand_a.id)["settings"]["require_design_approval"] is False
    assert _brand(brand_a.id)["settings"]["shopper_ai_tools"] == []


def test_the_embed_snippet_has_the_widget_key_and_the_product_sku(
    client: Any, brand_a: Any, owner: str, cat_a: dict[str, str]
) -> None:
    sku, pid = sorted(cat_a.items())[0]
    page = client.get(f"/dashboard/integrations?product={pid}")
    assert "Create the widget key" in page.text and 'id="embed-snippet"' not in page.text
    r = post(client, "/dashboard/integrations/widget-key", owner, {"product": pid})
    assert r.status_code == 303 and f"product={pid}" in r.headers["location"]
    page = client.get(f"/dashboard/integrations?product={pid}")
    snippet = page.text.split('id="embed-snippet"')[1].split("</pre>")[0]
    pk = PK.search(snippet).group(0)  # type: ignore[union-attr]
    assert f"product=&#34;{pid}&#34;" in snippet and sku in snippet and "luneo-widget.js" in snippet
    assert f'src="/dashboard/integrations/preview?product={pid}"' in page.text
    # the same key every time (derived, never stored), and only one managed key
    again = client.get(f"/dashboard/integrations?product={pid}")
    assert pk in again.text
    post(client, "/dashboard/integrations/widget-key", owner, {"product": pid})
    assert sum(1 for k in _keys(brand_a.id) if k.name == "Dashboard widget key") == 1
    # it works on the brand's origins and the dashboard's own, nowhere else; the brand's list is unchanged
    dashboard = re.match(r"https?://[^/]+", get_settings().public_base_url).group(0)  # type: ignore[union-attr]
    for origin, status in (("https://alpha.example", 200), (dashboard, 200), ("https://evil.example", 403)):
        got = client.get(
            f"/api/v1/widget/config/{pid}", headers={"Authorization": f"Bearer {pk}", "Origin": origin}
        )
        assert got.status_code == status, (origin, got.text[:200])
    assert _brand(brand_a.id)["origins"] == ["https://alpha.example"]
    preview = client.get(f"/dashboard/integrations/preview?product={pid}")
    assert preview.status_code == 200
    assert (
        f'<luneo-personalizer api-base="{get_settings().public_base_url.rstrip("/")}" key="{pk}"'
        in preview.text
    )
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"


def test_a_revoked_widget_key_is_replaced_by_a_new_one(
    client: Any, brand_a: Any, owner: str, cat_a: dict[str, str]
) -> None:
    pid = sorted(cat_a.values())[0]
    post(client, "/dashboard/integrations/widget-key", owner, {"product": pid})
    first = next(k for k in _keys(brand_a.id) if k.name == "Dashboard widget key")
    post(client, f"/dashboard/integrations/keys/{first.id}/revoke", owner)
    page = client.get(f"/dashboard/integrations?product={pid}")
    assert "Create the widget key" in page.text and 'id="embed-snippet"' not in page.text
    post(client, "/dashboard/integrations/widget-key", owner, {"product": pid})
    page = client.get(f"/dashboard/integrations?product={pid}")
    pk = PK.search(page.text.split('id="embed-snippet"')[1]).group(0)  # type: ignore[union-attr]
    live = [k for k in _keys(brand_a.id) if k.name == "Dashboard widget key" and k.revoked_at is None]
    assert len(live) == 1 and live[0].id != first.id and pk.startswith(live[0].prefix)


def test_the_shopify_and_webhooks_sections_link_their_pages(client: Any, owner: str) -> None:
    page = client.get("/dashboard/integrations")
    shopify = page.text.split('id="h-shopify"')[1].split("</section>")[0]
    hooks = page.text.split('id="h-webhooks"')[1].split("</section>")[0]
    assert 'href="/dashboard/integrations/shopify"' in shopify and 'href="/dashboard/webhooks"' in hooks
    assert "<form" not in shopify and "<form" not in hooks and "<input" not in shopify + hooks


def test_another_brands_ids_answer_404(
    client: Any, brand_a: Any, brand_b: Any, owner: str, cat_a: dict[str, str]
) -> None:
    from tests.integration.demo import seed_catalog

    theirs = next(k for k in _keys(brand_b.id) if k.kind == "publishable")
    assert client.get(f"/dashboard/integrations/keys/{theirs.id}/revoke").status_code == 404
    assert post(client, f"/dashboard/integrations/keys/{theirs.id}/revoke", owner).status_code == 404
    assert next(k for k in _keys(brand_b.id) if k.id == theirs.id).revoked_at is None
    their_product = sorted(seed_catalog(brand_b).values())[0]
    assert client.get(f"/dashboard/integrations/preview?product={their_product}").status_code == 404
    page = client.get(f"/dashboard/integrations?product={their_product}")
    assert page.status_code == 200 and their_product not in page.text
    assert client.get("/dashboard/integrations/keys/key_nope/revoke").status_code == 404


@pytest.mark.parametrize("role", ["editor", "viewer", "production"])
def test_roles_without_keys_manage_get_403_and_no_menu_entry(
    client: Any, brand_a: Any, role: str, cat_a: dict[str, str]
) -> None:
    csrf = sign_in(client, _member(brand_a, f"{role}@alpha.example", role))
    home = client.get("/dashboard/orders")  # a page every one of these roles may open
    nav = home.text.split('id="main-nav"')[1].split("</nav>")[0]
    assert home.status_code == 200 and 'href="/dashboard/integrations"' not in nav
    key = _keys(brand_a.id)[0]
    pid = sorted(cat_a.values())[0]
    assert client.get("/dashboard/integrations").status_code == 403
    assert client.get(f"/dashboard/integrations/keys/{key.id}/revoke").status_code == 403
    assert client.get(f"/dashboard/integrations/preview?product={pid}").status_code == 403
    for path, data in (
        ("/dashboard/integrations/keys", {"kind": "secret"}),
        (f"/dashboard/integrations/keys/{key.id}/revoke", {}),
        ("/dashboard/integrations/widget-key", {}),
        ("/dashboard/integrations/origins", {"origins": "https://x.example"}),
        ("/dashboard/integrations/settings", {"require_design_approval": "on"}),
    ):
        assert post(client, path, csrf, data).status_code == 403, path
    assert len(_keys(brand_a.id)) == 2 and _brand(brand_a.id)["origins"] == ["https://alpha.example"]


def test_the_page_query_count_does_not_grow_with_keys(client: Any, brand_a: Any, owner: str) -> None:
    from luneo.tenancy import service

    from .orders_helpers import count_queries

    def add(n: int) -> None:
        with get_db().transaction() as s:
            bind_tenant(s, brand_a.id)
            for i in range(n):
                service.create_api_key(s, brand_id=brand_a.id, kind="secret", name=f"k{i}")

    counts = []
    client.get("/dashboard/integrations")  # warm the per-process caches first
    for n in (1, 29):
        add(n)
        with count_queries() as seen:
            assert client.get("/dashboard/integrations").status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1] and counts[0] <= 20, counts


def test_the_production_file_name_pattern_is_saved_with_a_live_example_and_the_api_error(
    client: Any, brand_a: Any, owner: str
) -> None:
    page = client.get("/dashboard/integrations")
    assert 'name="file_name_pattern"' in page.text and 'id="file-name-example"' in page.text
    example = client.get("/dashboard/integrations/file-name-example?file_name_pattern={order}-{sku}-{text}")
    assert example.status_code == 200 and "1042-MUG-11-Zoe.pdf" in example.text
    r = post(client, "/dashboard/integrations/file-names", owner, {"file_name_pattern": "{order}_{sku}"})
    assert r.status_code == 303, r.text[:400]
    assert _brand(brand_a.id)["settings"]["file_name_pattern"] == "{order}_{sku}"
    saved = client.get(r.headers["location"])
    assert "Production file names saved." in saved.text and 'value="{order}_{sku}"' in saved.text
    assert "brand.settings_changed" in _audit(brand_a.id)
    bad = post(client, "/dashboard/integrations/file-names", owner, {"file_name_pattern": "{order}-{colour}"})
    assert bad.status_code == 422
    error = re.search(r'<p class="error" id="f-file_name_pattern-error">([^<]+)</p>', bad.text)
    assert error and "unknown token {colour}" in error.group(1)
    assert 'aria-invalid="true"' in bad.text and 'value="{order}-{colour}"' in bad.text
    assert _brand(brand_a.id)["settings"]["file_name_pattern"] == "{order}_{sku}"
    bad_example = client.get("/dashboard/integrations/file-name-example?file_name_pattern=a/b")
    assert bad_example.status_code == 200 and "is not allowed" in bad_example.text
    cleared = post(client, "/dashboard/integrations/file-names", owner, {"file_name_pattern": ""})
    assert cleared.status_code == 303 and _brand(brand_a.id)["settings"]["file_name_pattern"] is None
    fr = client.get("/dashboard/integrations", headers={"Accept-Language": "fr"})
    assert "Noms des fichiers de production" in fr.text


def test_only_brand_managers_change_the_file_name_pattern(client: Any, brand_a: Any) -> None:
    csrf = sign_in(client, _member(brand_a, "editor-names@alpha.example", "editor"))
    r = post(client, "/dashboard/integrations/file-names", csrf, {"file_name_pattern": "{order}"})
    assert r.status_code == 403
    assert "file_name_pattern" not in _brand(brand_a.id)["settings"]
