"""Issue 13 item 6: background removal and smart crop for widget shoppers (`/widget/photo-tools/*`).

Only when the brand enabled the tool (`settings.shopper_ai_tools`), on the shopper's own photo,
within `settings.shopper_ai_daily_limit` per shopper and day (counted in the database), metered
to the brand's credits exactly like the brand's `/ai/*` routes (which publishable keys still
cannot call); the result is a new asset the shopper owns."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select, update

from tests.integration.demo import pk

TOOLS = "/api/v1/widget/photo-tools"
SHOPPER_A = "shopper-aaaa-phototools-0123456789"
SHOPPER_B = "shopper-bbbb-phototools-0123456789"


@pytest.fixture(autouse=True)
def fresh_storage(settings):
    from luneo.ai.providers import reset_providers
    from luneo.platform.storage import set_storage

    set_storage(None)
    reset_providers()
    yield
    set_storage(None)
    reset_providers()


def _photo(size: tuple[int, int] = (320, 240)) -> bytes:
    img = Image.new("RGB", size, "#eeeeee")
    d = ImageDraw.Draw(img)
    d.rectangle([size[0] // 3, size[1] // 4, size[0] * 2 // 3, size[1] * 3 // 4], fill="#c9a227")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _upload(client: Any, brand: Any, token: str, size: tuple[int, int] = (320, 240)) -> str:
    r = client.post(
        "/api/v1/widget/uploads",
        headers=pk(brand, token),
        files={"file": ("me.png", _photo(size), "image/png")},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["asset_id"])


def _enable(client: Any, brand: Any, tools: Any, **more: Any) -> None:
    settings = client.get("/api/v1/brand", headers=brand.h()).json()["settings"]
    r = client.patch(
        "/api/v1/brand", json={"settings": {**settings, "shopper_ai_tools": tools, **more}}, headers=brand.h()
    )
    assert r.status_code == 200, r.text


def _ledger(db: Any, brand_id: str) -> list[tuple[str, int, str | None]]:
    from luneo.credits.models import CreditTransaction
    from luneo.platform.tenancy import bind_tenant

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        rows = s.execute(
            select(CreditTransaction).order_by(CreditTransaction.created_at, CreditTransaction.id)
        )
        return [(t.type, t.amount, t.operation) for t in rows.scalars()]


def _balance(db: Any, brand_id: str) -> int:
    from luneo.credits.service import get_balance
    from luneo.platform.tenancy import bind_tenant

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return int(get_balance(s, brand_id))


def _run_job(db: Any, gen_id: str) -> str:
    from luneo.platform import jobs
    from luneo.platform.clock import utcnow
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    outcome = "missing"
    for _ in range(6):
        with db.transaction() as s:
            bind_system(s)
            job = s.execute(select(Job).where(Job.key == f"ai:{gen_id}")).scalar_one()
            s.execute(update(Job).where(Job.id == job.id).values(next_run_at=utcnow() - timedelta(seconds=1)))
            job_id = job.id
        outcome = jobs.execute(db, job_id, worker_id="test", watchdog=False)
        if outcome in ("success", "failed"):
            return outcome
    return outcome


def _crop(client: Any, brand: Any, token: str, asset: str, product_id: str | None = None) -> Any:
    body: dict[str, Any] = {"asset_id": asset}
    body.update({"product_id": product_id, "zone_key": "photo"} if product_id else {"aspect_ratio": 1.0})
    return client.post(f"{TOOLS}/smart-crop", json=body, headers=pk(brand, token))


# --------------------------------------------------------------------------- refusals


def test_tools_are_off_by_default_403_and_nothing_is_charged(client, db, brand_a):
    asset = _upload(client, brand_a, SHOPPER_A)
    state = client.get(TOOLS, headers=pk(brand_a, SHOPPER_A))
    assert state.status_code == 200, state.text
    assert state.json() == {"tools": [], "daily_limit": 10, "remaining": 10}
    for path in ("background-removal", "smart-crop"):
        body = {"asset_id": asset, **({"aspect_ratio": 1.0} if path == "smart-crop" else {})}
        r = client.post(f"{TOOLS}/{path}", json=body, headers=pk(brand_a, SHOPPER_A))
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "shopper_tool_disabled"
    # one tool enabled: the other is still refused
    _enable(client, brand_a, ["smart_crop"])
    r = client.post(f"{TOOLS}/background-removal", json={"asset_id": asset}, headers=pk(brand_a, SHOPPER_A))
    assert r.status_code == 403 and r.json()["code"] == "shopper_tool_disabled"
    assert _ledger(db, brand_a.id) == [("grant", 50, None)]


def test_publishable_key_still_cannot_call_the_generic_ai_routes(client, brand_a):
    _enable(client, brand_a, ["background_removal", "smart_crop"])
    asset = _upload(client, brand_a, SHOPPER_A)
    for path, body in [
        ("background-removal", {"asset_id": asset}),
        ("smart-crop", {"asset_id": asset, "aspect_ratio": 1.0}),
    ]:
        r = client.post(f"/api/v1/ai/{path}", json=body, headers=pk(brand_a, SHOPPER_A))
        assert r.status_code == 403, (path, r.text)
    assert client.get("/api/v1/ai/generations", headers=pk(brand_a, SHOPPER_A)).status_code == 403


def test_another_shoppers_or_brands_photo_is_404_and_uncharged(client, db, brand_a, brand_b):
    _enable(client, brand_a, ["background_removal", "smart_crop"])
    _enable(client, brand_b, ["background_removal", "smart_crop"])
    mine = _upload(client, brand_a, SHOPPER_A)
    brand_asset = client.post(
        "/api/v1/assets", files={"file": ("a.png", _photo(), "image/png")}, headers=brand_a.h()
    ).json()["id"]
    for asset in (mine, brand_asset):  # another shopper's upload; the brand's own (no shopper's)
        r = _crop(client, brand_a, SHOPPER_B, asset)
        assert r.status_code == 404, r.text
        r = client.post(
            f"{TOOLS}/background-removal", json={"asset_id": asset}, headers=pk(brand_a, SHOPPER_B)
        )
        assert r.status_code == 404, r.text
    # another brand's key, even with the same shopper token
    r = _crop(client, brand_b, SHOPPER_A, mine)
    assert r.status_code == 404, r.text
    assert _ledger(db, brand_a.id) == [("grant", 50, None)]
    assert _ledger(db, brand_b.id) == [("grant", 50, None)]


def test_without_credits_402_and_it_does_not_count(client, db, brand_a):
    from luneo.credits import service as credits
    from luneo.platform.tenancy import bind_tenant

    _enable(client, brand_a, ["smart_crop"], shopper_ai_daily_limit=1)
    asset = _upload(client, brand_a, SHOPPER_A)
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        credits.debit(s, brand_a.id, 50, "test.drain", "test:drain")
    r = _crop(client, brand_a, SHOPPER_A, asset)
    assert r.status_code == 402, r.text
    assert r.json()["code"] == "insufficient_credits"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get(TOOLS, headers=pk(brand_a, SHOPPER_A)).json()["remaining"] == 1


def test_beyond_the_daily_limit_429_with_retry_after_counted_in_the_database(client, db, brand_a):
    from luneo.ai.models import AIGeneration
    from luneo.platform.clock import utcnow
    from luneo.platform.tenancy import bind_system

    _enable(client, brand_a, ["smart_crop"], shopper_ai_daily_limit=2)
    asset = _upload(client, brand_a, SHOPPER_A)
    for _ in range(2):
        assert _crop(client, brand_a, SHOPPER_A, asset).status_code == 200
    assert client.get(TOOLS, headers=pk(brand_a, SHOPPER_A)).json()["remaining"] == 0
    r = _crop(client, brand_a, SHOPPER_A, asset)
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "shopper_daily_limit" and r.json()["limit"] == 2
    assert 1 <= int(r.headers["retry-after"]) <= 86_400
    balance = _balance(db, brand_a.id)
    # another shopper has a limit of their own
    other = _upload(client, brand_a, SHOPPER_B, size=(300, 200))
    assert _crop(client, brand_a, SHOPPER_B, other).status_code == 200
    # the count is the shopper's rows of today (not a process's memory): yesterday's do not count
    with db.transaction() as s:
        bind_system(s)
        rows = s.execute(select(AIGeneration).where(AIGeneration.shopper.is_not(None))).scalars().all()
        assert {r.shopper for r in rows} and all(r.shopper.startswith("shp_") for r in rows)
        assert all(SHOPPER_A not in r.shopper for r in rows)  # never the token itself
        s.execute(
            update(AIGeneration)
            .where(AIGeneration.brand_id == brand_a.id)
            .values(created_at=utcnow() - timedelta(days=1))
        )
    assert _balance(db, brand_a.id) < balance
    assert _crop(client, brand_a, SHOPPER_A, asset).status_code == 200


def test_brand_settings_are_validated(client, brand_a):
    settings = client.get("/api/v1/brand", headers=brand_a.h()).json()["settings"]
    for bad in (
        {"shopper_ai_tools": ["upscale"]},
        {"shopper_ai_tools": "smart_crop"},
        {"shopper_ai_tools": {"smart_crop": "yes"}},
        {"shopper_ai_daily_limit": -1},
        {"shopper_ai_daily_limit": 1001},
        {"shopper_ai_daily_limit": "10"},
    ):
        r = client.patch("/api/v1/brand", json={"settings": {**settings, **bad}}, headers=brand_a.h())
        assert r.status_code == 422, (bad, r.text)
    _enable(client, brand_a, {"background_removal": True, "smart_crop": False}, shopper_ai_daily_limit=3)
    state = client.get(TOOLS, headers=pk(brand_a, SHOPPER_A)).json()
    assert state == {"tools": ["background_removal"], "daily_limit": 3, "remaining": 3}


# --------------------------------------------------------------------------- success


def test_smart_crop_is_metered_like_the_brand_route_and_the_shopper_owns_the_result(
    client, db, brand_a, cat_a
):
    _enable(client, brand_a, ["smart_crop"])
    asset = _upload(client, brand_a, SHOPPER_A, size=(400, 300))
    r = _crop(client, brand_a, SHOPPER_A, asset, cat_a["DEMO-MUG"])
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["tool"] == "smart_crop" and out["status"] == "succeeded"
    new = out["asset_id"]
    assert new and new != asset and out["url"]
    # the mug's photo zone is 96 × 74 mm: the crop has its shape
    assert out["width_px"] / out["height_px"] == pytest.approx(96 / 74, rel=0.03)
    # the same ledger operation and cost as the brand's own /ai/smart-crop
    brand_asset = client.post(
        "/api/v1/assets", files={"file": ("a.png", _photo((400, 300)), "image/png")}, headers=brand_a.h()
    ).json()["id"]
    brand_r = client.post(
        "/api/v1/ai/smart-crop",
        json={"asset_id": brand_asset, "product_id": cat_a["DEMO-MUG"], "zone_key": "photo"},
        headers=brand_a.h(),
    )
    assert brand_r.status_code == 200, brand_r.text
    ledger = _ledger(db, brand_a.id)
    assert ledger[1] == ledger[2] and ledger[1][2] == "ai.smart_crop" and ledger[1][1] < 0
    assert _balance(db, brand_a.id) == 50 + 2 * ledger[1][1]
    # the new photo is the shopper's: readable by them, usable in their design, not another's
    assert client.get(f"/api/v1/assets/{new}", headers=pk(brand_a, SHOPPER_A)).status_code == 200
    assert client.get(f"/api/v1/assets/{new}", headers=pk(brand_a, SHOPPER_B)).status_code == 404
    assert _crop(client, brand_a, SHOPPER_B, new).status_code == 404
    inputs = {"photo": {"kind": "image", "asset_id": new}, "name": {"text": "Ana"}}
    check = client.post(
        "/api/v1/personalization/validate",
        json={"product_id": cat_a["DEMO-MUG"], "inputs": inputs},
        headers=pk(brand_a, SHOPPER_A),
    )
    assert check.status_code == 200, check.text
    assert not [v for v in check.json()["violations"] if v["code"] == "unknown_asset"], check.json()
    # the brand sees it in its AI history
    history = client.get("/api/v1/ai/generations", headers=brand_a.h()).json()["data"]
    assert out["id"] in {g["id"] for g in history}


def test_background_removal_runs_as_a_job_polled_by_its_shopper_only(client, db, brand_a):
    _enable(client, brand_a, ["background_removal"])
    asset = _upload(client, brand_a, SHOPPER_A)
    r = client.post(f"{TOOLS}/background-removal", json={"asset_id": asset}, headers=pk(brand_a, SHOPPER_A))
    assert r.status_code == 202, r.text
    gen_id = r.json()["id"]
    assert r.json()["status"] == "pending" and r.json()["asset_id"] is None
    assert ("usage", -2, "ai.background_removal") in _ledger(db, brand_a.id)
    assert _run_job(db, gen_id) == "success"
    other = client.get(f"{TOOLS}/generations/{gen_id}", headers=pk(brand_a, SHOPPER_B))
    assert other.status_code == 404
    done = client.get(f"{TOOLS}/generations/{gen_id}", headers=pk(brand_a, SHOPPER_A))
    assert done.status_code == 200, done.text
    out = done.json()
    assert out["status"] == "succeeded" and out["asset_id"]
    assert client.get(f"/api/v1/assets/{out['asset_id']}", headers=pk(brand_a, SHOPPER_A)).status_code == 200
    assert client.get(f"/api/v1/assets/{out['asset_id']}", headers=pk(brand_a, SHOPPER_B)).status_code == 404
    img = Image.open(io.BytesIO(client.get(out["url"]).content))
    assert img.mode == "RGBA" and img.getpixel((2, 2))[3] == 0 and img.getpixel((160, 120))[3] == 255
    # a brand's own generation is no shopper's
    brand_gen = client.post(
        "/api/v1/ai/extract-colors",
        json={
            "asset_id": client.post(
                "/api/v1/assets", files={"file": ("a.png", _photo(), "image/png")}, headers=brand_a.h()
            ).json()["id"]
        },
        headers=brand_a.h(),
    ).json()["id"]
    assert client.get(f"{TOOLS}/generations/{brand_gen}", headers=pk(brand_a, SHOPPER_A)).status_code == 404


def test_a_failed_tool_is_refunded_and_does_not_count(client, db, brand_a, monkeypatch):
    from luneo.ai import local

    _enable(client, brand_a, ["smart_crop"], shopper_ai_daily_limit=1)
    asset = _upload(client, brand_a, SHOPPER_A)

    def broken(*_a: Any, **_k: Any) -> Any:
        raise local.ImageInputError("cannot read this one")

    monkeypatch.setattr(local, "smart_crop", broken)
    r = _crop(client, brand_a, SHOPPER_A, asset)
    assert r.status_code == 422 and r.json()["code"] == "invalid_image", r.text
    assert _balance(db, brand_a.id) == 50
    assert client.get(TOOLS, headers=pk(brand_a, SHOPPER_A)).json()["remaining"] == 1


def test_shopper_token_is_required(client, brand_a):
    _enable(client, brand_a, ["smart_crop"])
    r = client.post(
        f"{TOOLS}/smart-crop", json={"asset_id": "ast_x", "aspect_ratio": 1}, headers=brand_a.h("pk")
    )
    assert r.status_code == 422 and r.json()["code"] == "shopper_token_required"
