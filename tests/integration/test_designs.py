"""Specs, personalization checks, snapshots and saved designs over HTTP."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.integration.demo import upload_png


def _pendant(name="Emma", initial="E"):
    return {"arc_text": {"text": name, "font": "fnt_serif"}, "initial": {"text": initial}}


def test_validate_reports_violations_per_zone_and_writes_nothing(client, brand_a, cat_a, db):
    pid = cat_a["DEMO-PENDANT"]
    ok = client.post(
        "/api/v1/personalization/validate",
        json={"product_id": pid, "inputs": _pendant()},
        headers=brand_a.h("pk"),
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["valid"] is True and ok.json()["sizes"]["arc_text"] > 0
    bad = client.post(
        "/api/v1/personalization/validate",
        headers=brand_a.h("pk"),
        json={
            "product_id": pid,
            "inputs": {
                "arc_text": {"text": "x" * 40},
                "initial": {"text": "e\u200d"},
                "ghost": {"text": "hi"},
            },
        },
    ).json()
    assert bad["valid"] is False
    codes = {(v["zone"], v["code"]) for v in bad["violations"]}
    assert ("ghost", "unknown_zone") in codes
    assert any(z == "arc_text" for z, _ in codes)
    assert any(z == "initial" for z, _ in codes)
    with db.transaction(write=False) as s:
        from luneo.platform.tenancy import bind_system

        bind_system(s)
        assert s.execute(sa.text("select count(*) from design_specs")).scalar() == 0


def test_spec_is_hash_addressed_and_stored_once(client, brand_a, cat_a):
    body = {"product_id": cat_a["DEMO-PENDANT"], "inputs": _pendant()}
    r1 = client.post("/api/v1/specs", json=body, headers=brand_a.h())
    r2 = client.post("/api/v1/specs", json=body, headers=brand_a.h())
    assert r1.status_code == r2.status_code == 201, r1.text
    a, b = r1.json(), r2.json()
    assert a["spec_hash"] == b["spec_hash"] and a["id"] == b["id"] and len(a["spec_hash"]) == 64
    got = client.get(f"/api/v1/specs/{a['spec_hash']}", headers=brand_a.h())
    assert got.status_code == 200 and got.json()["spec"] == a["spec"]
    # The stored spec validates as a document and hashes to the same value.
    v = client.post("/api/v1/specs/validate", json={"spec": a["spec"]}, headers=brand_a.h()).json()
    assert v["valid"] is True and v["spec_hash"] == a["spec_hash"]
    tampered = {**a["spec"], "inputs": {**a["spec"]["inputs"], "ghost": {"kind": "text", "text": "x"}}}
    v2 = client.post("/api/v1/specs/validate", json={"spec": tampered}, headers=brand_a.h()).json()
    assert v2["valid"] is False
    schema = client.get("/api/v1/specs/schema").json()
    assert schema["$schema"].endswith("2020-12/schema") and schema["version"] == "1.0"


def test_invalid_spec_is_422_with_violations(client, brand_a, cat_a):
    r = client.post(
        "/api/v1/specs",
        headers=brand_a.h(),
        json={
            "product_id": cat_a["DEMO-PENDANT"],
            "inputs": {"arc_text": {"text": "MERDE"}, "initial": {"text": "A"}},
        },
    )
    # whether or not the word is blocked in the demo, an unknown product is always a 404
    assert r.status_code in (201, 422)
    r = client.post("/api/v1/specs", headers=brand_a.h(), json={"product_id": "prd_nope", "inputs": {}})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.post(
        "/api/v1/specs",
        headers=brand_a.h(),
        json={"product_id": cat_a["DEMO-PENDANT"], "inputs": {"initial": {"text": "\u202eA"}}},
    )
    assert r.status_code == 422 and r.json()["code"] == "design_invalid"
    assert all({"zone", "code", "message", "params"} <= set(v) for v in r.json()["violations"])


def test_another_brands_product_is_404(client, brand_a, brand_b, cat_a):
    r = client.post(
        "/api/v1/specs", json={"product_id": cat_a["DEMO-PENDANT"], "inputs": _pendant()}, headers=brand_b.h()
    )
    assert r.status_code == 404
    r = client.post(
        "/api/v1/personalization/validate",
        json={"product_id": cat_a["DEMO-PENDANT"], "inputs": {}},
        headers=brand_b.h("pk"),
    )
    assert r.status_code == 404


def test_auto_fit_and_normalize(client, brand_a, cat_a):
    pid = cat_a["DEMO-PENDANT"]
    short = client.post(
        "/api/v1/personalization/auto-fit",
        headers=brand_a.h("pk"),
        json={"product_id": pid, "zone": "arc_text", "text": "Al"},
    ).json()
    long = client.post(
        "/api/v1/personalization/auto-fit",
        headers=brand_a.h("pk"),
        json={"product_id": pid, "zone": "arc_text", "text": "Alexandrine Marie"},
    ).json()
    assert short["size_pt"] >= long["size_pt"] and short["fits"]
    n = client.post(
        "/api/v1/personalization/normalize",
        headers=brand_a.h("pk"),
        json={"texts": {"a": "Cafe\u0301", "b": "plain"}},
    ).json()
    assert n["texts"]["a"] == "Café" and n["changed"] == ["a"]


def test_snapshot_idempotent_lock_validate_audit(client, brand_a, cat_a, db):
    body = {
        "product_id": cat_a["DEMO-PENDANT"],
        "inputs": _pendant("Lou"),
        "provenance": {"source": "widget", "session_id": "s1"},
    }
    shopper = brand_a.h("pk", **{"X-Shopper-Token": "shopper-token-snapshots"})
    r1 = client.post("/api/v1/snapshots", json=body, headers=shopper)
    assert r1.status_code == 201, r1.text
    r2 = client.post("/api/v1/snapshots", json=body, headers=shopper)
    assert r2.status_code == 200 and r2.json()["id"] == r1.json()["id"]
    assert r1.json()["provenance"] == {"source": "widget"}  # a widget never sees who made it
    snap = client.get(f"/api/v1/snapshots/{r1.json()['id']}", headers=brand_a.h()).json()
    assert snap["provenance"]["source"] == "widget" and snap["provenance"]["ip"]
    sid = snap["id"]
    assert client.post(f"/api/v1/snapshots/{sid}/lock", headers=brand_a.h("pk")).status_code == 403
    locked = client.post(f"/api/v1/snapshots/{sid}/lock", headers=brand_a.h()).json()
    assert locked["locked_at"] and locked["locked_by"] == brand_a.owner_id
    val = client.post(f"/api/v1/snapshots/{sid}/validate", headers=brand_a.h()).json()
    assert val["validated_at"] and val["validated_by"] == brand_a.owner_id
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        actions = (
            s.execute(sa.text("select action from audit_events where resource_id = :i"), {"i": sid})
            .scalars()
            .all()
        )
    assert {"snapshot.locked", "snapshot.validated"} <= set(actions)


def test_snapshot_spec_cannot_change_even_in_sql(client, brand_a, cat_a, db):
    sid = client.post(
        "/api/v1/snapshots",
        json={"product_id": cat_a["DEMO-PENDANT"], "inputs": _pendant("Zoé")},
        headers=brand_a.h(),
    ).json()["id"]
    from luneo.platform.tenancy import bind_tenant

    # bound to the brand: on PostgreSQL, row-level security hides every row from an unbound session
    with pytest.raises(sa.exc.DatabaseError), db.transaction() as s:
        bind_tenant(s, brand_a.id)
        s.execute(sa.text("update snapshots set spec_hash = 'x' where id = :i"), {"i": sid})
    with pytest.raises(sa.exc.DatabaseError), db.transaction() as s:
        bind_tenant(s, brand_a.id)
        s.execute(sa.text("update design_specs set canonical = '{}'"))


def test_image_zone_dpi_rules(client, brand_a, cat_a):
    tiny = upload_png(client, brand_a, (8, 8))
    big = upload_png(client, brand_a, (2400, 1100), "#884422")
    pid = cat_a["DEMO-MUG"]
    r = client.post(
        "/api/v1/personalization/validate",
        headers=brand_a.h(),
        json={"product_id": pid, "inputs": {"photo": {"asset_id": tiny["id"]}, "name": {"text": "Léa"}}},
    ).json()
    assert any(v["code"] == "image_dpi_too_low" for v in r["violations"])
    r = client.post(
        "/api/v1/personalization/validate",
        headers=brand_a.h(),
        json={
            "product_id": pid,
            "inputs": {"photo": {"kind": "image", "asset_id": big["id"]}, "name": {"text": "Léa"}},
        },
    ).json()
    assert r["valid"], r


def test_saved_designs_shopper_scoped_and_shareable(client, brand_a, cat_a):
    shopper = {"X-Shopper-Token": "shopper-token-aaaaaaaa"}
    other = {"X-Shopper-Token": "shopper-token-bbbbbbbb"}
    body = {
        "name": "Gift for mum",
        "source": "widget",
        "product_id": cat_a["DEMO-PENDANT"],
        "inputs": _pendant("Mum"),
    }
    r = client.post("/api/v1/designs", json=body, headers=brand_a.h("pk", **shopper))
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    assert client.post("/api/v1/designs", json=body, headers=brand_a.h("pk")).status_code == 422
    assert client.get(f"/api/v1/designs/{did}", headers=brand_a.h("pk", **other)).status_code == 404
    mine = client.get("/api/v1/designs", headers=brand_a.h("pk", **shopper)).json()["data"]
    assert [d["id"] for d in mine] == [did]
    assert client.get("/api/v1/designs", headers=brand_a.h("pk", **other)).json()["data"] == []
    assert did in [d["id"] for d in client.get("/api/v1/designs", headers=brand_a.h()).json()["data"]]
    share = client.post(f"/api/v1/designs/{did}/share", headers=brand_a.h("pk", **shopper)).json()[
        "share_url"
    ]
    token = share.rsplit("/", 1)[1]
    public = client.get(f"/api/v1/shared/designs/{token}")
    assert public.status_code == 200 and public.json()["name"] == "Gift for mum"
    assert client.get("/api/v1/shared/designs/not-a-token").status_code == 404
    assert client.delete(f"/api/v1/designs/{did}", headers=brand_a.h("pk", **shopper)).status_code == 204
    assert client.get(f"/api/v1/designs/{did}", headers=brand_a.h()).status_code == 404
