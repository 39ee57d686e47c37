"""The email previews page: every email in English and French with the brand's branding, by role,
and never another brand's data."""

from __future__ import annotations

import html as html_lib
import re

from tests.integration.dashboard.helpers import sign_in

SRCDOC = re.compile(r'srcdoc="([^"]*)"')


def _set_brand(brand_id: str, **settings: str) -> None:
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy.models import Brand

    with get_db().transaction() as s:
        bind_system(s)
        brand = s.get(Brand, brand_id)
        assert brand is not None
        brand.settings = {**(brand.settings or {}), **settings}


def test_every_email_previews_in_both_languages_with_the_brands_branding(client, brand_a):
    _set_brand(brand_a.id, primary_color="#7c2d12", logo_url="https://cdn.alpha.example/logo.png")
    sign_in(client, brand_a.owner_email)
    r = client.get("/dashboard/emails")
    assert r.status_code == 200
    for template in (
        "order_confirmation",
        "order_shipped",
        "production_error",
        "render_ready",
        "low_credits",
        "invitation",
        "email_verification",
        "password_reset",
    ):
        assert f"template={template}" in r.text
        for lang, hello in (("en", "Hello"), ("fr", "Bonjour")):
            page = client.get("/dashboard/emails", params={"template": template, "email_lang": lang})
            assert page.status_code == 200
            [doc] = SRCDOC.findall(page.text)
            doc = html_lib.unescape(doc)
            assert f'lang="{lang}"' in doc and "background:#7c2d12" in doc
            assert 'src="https://cdn.alpha.example/logo.png"' in doc
            assert '<iframe class="email-frame"' in page.text and "sandbox" in page.text
            if template in ("order_confirmation", "order_shipped", "invitation", "email_verification"):
                assert hello in page.text, (template, lang)
    fr = client.get(
        "/dashboard/emails", params={"template": "order_shipped", "lang": "fr", "email_lang": "fr"}
    )
    assert "Partie texte" in fr.text and "Numéro de suivi" in fr.text


def test_another_brand_previews_with_its_own_branding_only(client, brand_a, brand_b):
    _set_brand(brand_a.id, primary_color="#7c2d12")
    sign_in(client, brand_b.owner_email)
    page = client.get("/dashboard/emails", params={"template": "low_credits"})
    assert page.status_code == 200
    doc = html_lib.unescape(SRCDOC.findall(page.text)[0])
    assert "Bravo" in doc and "Alpha" not in doc and "#7c2d12" not in doc
    # the brand cookie cannot point the page at a brand one is not a member of
    client.cookies.set("luneo_brand", brand_a.id)
    page = client.get("/dashboard/emails", params={"template": "low_credits"})
    assert page.status_code == 200 and "#7c2d12" not in page.text and "Alpha" not in page.text


def test_production_role_cannot_open_the_page(client, brand_a):
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email="maker@alpha.example", password="correct horse battery")
        bind_tenant(s, brand_a.id)
        service.add_member(s, brand_id=brand_a.id, user_id=user.id, role="production")
    sign_in(client, "maker@alpha.example")
    assert client.get("/dashboard/emails").status_code == 403
