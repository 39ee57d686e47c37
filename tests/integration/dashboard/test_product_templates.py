"""Dashboard: a product's templates — create from values typed per zone (the widget's rules, errors
next to the fields), list with thumbnails, rename, reorder, (de)activate, delete; roles and
another brand's ids."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.demo import seed_catalog

from .helpers import post, sign_in

API = "/api/v1"


@pytest.fixture
def owner(client: Any, brand_a: Any) -> str:
    return sign_in(client, brand_a.owner_email)


def _listed(client: Any, brand: Any, pid: str) -> list[dict[str, Any]]:
    r = client.get(f"{API}/products/{pid}/templates", headers=brand.h("sk"))
    assert r.status_code == 200, r.text
    return list(r.json()["data"])


def test_create_from_the_zone_form_then_list_with_thumbnails(client: Any, brand_a: Any, owner: str) -> None:
    cat = seed_catalog(brand_a)
    pid = cat["DEMO-CARD"]
    page = client.get(f"/dashboard/products/{pid}/templates")
    assert page.status_code == 200
    # a field per zone, the zone's colours offered
    assert 'name="z.name.text"' in page.text and 'name="z.title.text"' in page.text
    assert 'name="z.name.color"' in page.text and "#1f3a5f" in page.text
    # the product page links here
    assert f"/dashboard/products/{pid}/templates" in client.get(f"/dashboard/products/{pid}").text

    form = {"name": "Bold", "z.name.text": "Zoé Durand", "z.name.color": "#000000", "z.title.text": "CEO"}
    r = post(client, f"/dashboard/products/{pid}/templates", owner, form)
    assert r.status_code == 303, r.text[:2000]
    made = _listed(client, brand_a, pid)[-1]
    assert made["name"] == "Bold"
    assert made["inputs"] == {
        "name": {"kind": "text", "text": "Zoé Durand", "color": "#000000"},
        "title": {"kind": "text", "text": "CEO"},
    }
    page = client.get(f"/dashboard/products/{pid}/templates")
    thumbs = re.findall(r'src="(/dashboard/products/[^"]+/preview\.png)"', page.text)
    assert len(thumbs) == 3  # the two demo templates and the new one
    img = client.get(thumbs[-1])
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    assert img.content[:8] == b"\x89PNG\r\n\x1a\n"
    again = client.get(thumbs[-1], headers={"If-None-Match": img.headers["etag"]})
    assert again.status_code == 304


def test_invalid_values_show_errors_next_to_the_fields_and_write_nothing(
    client: Any, brand_a: Any, owner: str
) -> None:
    pid = seed_catalog(brand_a)["DEMO-SIGN"]
    r = post(
        client, f"/dashboard/products/{pid}/templates", owner, {"name": "Long", "z.title.text": "x" * 40}
    )
    assert r.status_code == 422
    assert 'id="f-z-title-error"' in r.text and 'aria-invalid="true"' in r.text
    assert 'value="' + "x" * 40 + '"' in r.text  # the typed value is kept
    r = post(client, f"/dashboard/products/{pid}/templates", owner, {"name": "", "z.title.text": "Open"})
    assert r.status_code == 422 and 'id="f-name-error"' in r.text
    assert _listed(client, brand_a, pid) == []


def test_rename_reorder_activate_and_delete(client: Any, brand_a: Any, owner: str) -> None:
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    first, second = _listed(client, brand_a, pid)
    base = f"/dashboard/products/{pid}/templates"

    assert post(client, f"{base}/{first['id']}/rename", owner, {"name": "Renamed"}).status_code == 303
    r = post(client, f"{base}/{first['id']}/rename", owner, {"name": ""})
    assert r.status_code == 422 and f'id="f-rename-{first["id"]}-error"' in r.text

    assert post(client, f"{base}/{second['id']}/move", owner, {"direction": "up"}).status_code == 303
    assert [t["id"] for t in _listed(client, brand_a, pid)] == [second["id"], first["id"]]
    assert post(client, f"{base}/{second['id']}/move", owner, {"direction": "down"}).status_code == 303
    assert [t["name"] for t in _listed(client, brand_a, pid)] == ["Renamed", second["name"]]

    assert post(client, f"{base}/{first['id']}/active", owner, {"active": "0"}).status_code == 303
    assert _listed(client, brand_a, pid)[0]["active"] is False
    widget = client.get(f"{API}/widget/products/{pid}/templates", headers=brand_a.h("pk")).json()["data"]
    assert [t["id"] for t in widget] == [second["id"]]
    assert post(client, f"{base}/{first['id']}/active", owner, {"active": "1"}).status_code == 303

    confirm = client.get(f"{base}?delete={first['id']}")
    assert f'action="{base}/{first["id"]}/delete"' in confirm.text
    assert post(client, f"{base}/{first['id']}/delete", owner).status_code == 303
    assert [t["id"] for t in _listed(client, brand_a, pid)] == [second["id"]]


def test_a_read_only_role_sees_no_forms_and_cannot_write(client: Any, brand_a: Any) -> None:
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service

    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    with get_db().transaction() as s:
        bind_system(s)
        user = service.create_user(s, email="viewer@alpha.example", password="correct horse battery")
        bind_tenant(s, brand_a.id)
        service.add_member(s, brand_id=brand_a.id, user_id=user.id, role="viewer")
    csrf = sign_in(client, "viewer@alpha.example")
    page = client.get(f"/dashboard/products/{pid}/templates")
    assert page.status_code == 200 and "Classic" in page.text and "/rename" not in page.text
    r = post(client, f"/dashboard/products/{pid}/templates", csrf, {"name": "x", "z.arc_text.text": "a"})
    assert r.status_code == 403


def test_another_brands_ids_answer_404_on_every_route(client: Any, brand_a: Any, brand_b: Any) -> None:
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    tid = _listed(client, brand_a, pid)[0]["id"]
    own = seed_catalog(brand_b)["DEMO-PENDANT"]
    csrf_b = sign_in(client, brand_b.owner_email)
    base = f"/dashboard/products/{pid}/templates"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/{tid}/preview.png").status_code == 404
    assert (
        post(client, base, csrf_b, {"name": "x", "z.arc_text.text": "a", "z.initial.text": "A"}).status_code
        == 404
    )
    for action, data in (
        ("rename", {"name": "x"}),
        ("move", {"direction": "up"}),
        ("active", {"active": "0"}),
    ):
        assert post(client, f"{base}/{tid}/{action}", csrf_b, data).status_code == 404
        # brand A's template through brand B's own product
        assert (
            post(client, f"/dashboard/products/{own}/templates/{tid}/{action}", csrf_b, data).status_code
            == 404
        )
    assert post(client, f"{base}/{tid}/delete", csrf_b).status_code == 404
    assert client.get(f"/dashboard/products/{own}/templates/{tid}/preview.png").status_code == 404
    assert (
        _listed(client, brand_a, pid)[0]["id"] == tid and _listed(client, brand_a, pid)[0]["active"] is True
    )
