"""AI routes end to end in embedded mode, metering, refunds, moderation, providers, isolation."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select, update

from tests.integration.demo import seed_catalog, upload_png
from tests.integration.factories.credits import assert_ledger_consistent
from tests.unit.ai.test_providers import OPENAI_KEY, ProtocolServer, chat_completion, serve

API = "/api/v1/ai"


@pytest.fixture(autouse=True)
def _fresh_providers(settings: Any) -> Iterator[None]:
    from luneo.ai.providers import reset_providers

    reset_providers()
    yield
    reset_providers()


@pytest.fixture
def server() -> Iterator[ProtocolServer]:
    yield from serve()


def _balance(db: Any, brand_id: str) -> int:
    from luneo.credits.service import get_balance
    from luneo.platform.tenancy import bind_tenant

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return get_balance(s, brand_id)


def _ledger(db: Any, brand_id: str) -> list[tuple[str, int, str | None]]:
    from luneo.credits.models import CreditTransaction
    from luneo.platform.tenancy import bind_tenant

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        rows = s.execute(
            select(CreditTransaction).order_by(CreditTransaction.created_at, CreditTransaction.id)
        )
        return [(t.type, t.amount, t.operation) for t in rows.scalars()]


def _set_brand_settings(db: Any, brand_id: str, **values: Any) -> None:
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy.models import Brand

    with db.transaction() as s:
        bind_system(s)
        brand = s.get(Brand, brand_id)
        brand.settings = {**(brand.settings or {}), **values}


def _run_jobs(db: Any, gen_id: str) -> str:
    """Run the generation's job until it finishes (retries made due at once)."""
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


def _image(client: Any, url: str) -> Image.Image:
    r = client.get(url)
    assert r.status_code == 200, r.text
    return Image.open(io.BytesIO(r.content))


def _photo_png(size: tuple[int, int] = (320, 240), dpi: int | None = None) -> bytes:
    img = Image.new("RGB", size, "#eeeeee")
    from PIL import ImageDraw

    d = ImageDraw.Draw(img)
    d.rectangle([size[0] // 3, size[1] // 4, size[0] * 2 // 3, size[1] * 3 // 4], fill="#c9a227")
    buf = io.BytesIO()
    img.save(buf, "PNG", **({"dpi": (dpi, dpi)} if dpi else {}))
    return buf.getvalue()


def _upload(client: Any, brand: Any, data: bytes) -> str:
    r = client.post("/api/v1/assets", files={"file": ("a.png", data, "image/png")}, headers=brand.h())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


# --------------------------------------------------------------------------- happy paths


def test_extract_colors_against_product_palette(client, db, brand_a):
    ids = seed_catalog(brand_a)
    asset = _upload(client, brand_a, _photo_png())
    r = client.post(
        f"{API}/extract-colors",
        json={"asset_id": asset, "count": 3, "product_id": ids["DEMO-MUG"]},
        headers=brand_a.h(),
    )
    assert r.status_code == 200, r.text
    gen = r.json()
    assert gen["id"].startswith("gen_") and gen["status"] == "succeeded" and gen["outputs"] == []
    assert gen["operation"] == "extract_colors" and gen["provider"] == "local" and gen["credits"] == 1
    colours = gen["result"]["colors"]
    assert colours[0]["hex"] == "#eeeeee" and colours[0]["palette_match"] == "#ffffff"
    assert any(c["palette_match"] == "#c9a227" for c in colours)
    assert gen["result"]["palette_source"] == "product"
    assert _balance(db, brand_a.id) == 49


def test_extract_colors_uses_brand_palette(client, db, brand_a):
    _set_brand_settings(db, brand_a.id, palette=["#123456", "#c9a227"])
    asset = _upload(client, brand_a, _photo_png())
    gen = client.post(f"{API}/extract-colors", json={"asset_id": asset}, headers=brand_a.h("sk")).json()
    assert gen["result"]["palette_source"] == "brand"
    assert {c["palette_match"] for c in gen["result"]["colors"]} <= {"#123456", "#c9a227"}


def test_smart_crop_to_zone_aspect(client, db, brand_a):
    ids = seed_catalog(brand_a)
    asset = _upload(client, brand_a, _photo_png((400, 300)))
    r = client.post(
        f"{API}/smart-crop",
        json={"asset_id": asset, "product_id": ids["DEMO-PHONE"], "zone_key": "photo", "width": 150},
        headers=brand_a.h(),
    )
    assert r.status_code == 200, r.text
    gen = r.json()
    (out,) = gen["outputs"]
    img = _image(client, out["url"])
    assert img.size == (150, round(150 / (75 / 155)))
    assert gen["result"]["box"]["width"] / gen["result"]["box"]["height"] == pytest.approx(75 / 155, rel=0.02)
    r = client.post(f"{API}/smart-crop", json={"asset_id": asset}, headers=brand_a.h())
    assert r.status_code == 422 and r.json()["code"] == "aspect_required"


def test_upscale_x2_now_and_x4_as_job(client, db, brand_a):
    asset = _upload(client, brand_a, _photo_png((100, 80)))  # uploads are re-encoded: DPI is given
    r = client.post(
        f"{API}/upscale", json={"asset_id": asset, "factor": 2, "source_dpi": 150}, headers=brand_a.h()
    )
    assert r.status_code == 200, r.text
    gen = r.json()
    assert gen["result"]["effective_dpi"] == pytest.approx(300)
    assert _image(client, gen["outputs"][0]["url"]).size == (200, 160)
    r = client.post(
        f"{API}/upscale", json={"asset_id": asset, "factor": 4, "source_dpi": 100}, headers=brand_a.h()
    )
    assert r.status_code == 202 and r.json()["status"] == "pending" and r.json()["outputs"] == []
    gen_id = r.json()["id"]
    assert _run_jobs(db, gen_id) == "success"
    done = client.get(f"{API}/generations/{gen_id}", headers=brand_a.h()).json()
    assert done["status"] == "succeeded" and done["result"]["effective_dpi"] == pytest.approx(400)
    assert _image(client, done["outputs"][0]["url"]).size == (400, 320)
    assert _balance(db, brand_a.id) == 50 - 2 - 2


def test_background_removal_job_gives_rgba(client, db, brand_a):
    asset = _upload(client, brand_a, _photo_png())
    r = client.post(f"{API}/background-removal", json={"asset_id": asset}, headers=brand_a.h())
    assert r.status_code == 202, r.text
    gen_id = r.json()["id"]
    assert _balance(db, brand_a.id) == 48  # reserved at request time
    assert _run_jobs(db, gen_id) == "success"
    gen = client.get(f"{API}/generations/{gen_id}", headers=brand_a.h()).json()
    assert gen["status"] == "succeeded" and gen["latency_ms"] is not None
    img = _image(client, gen["outputs"][0]["url"])
    assert img.mode == "RGBA"
    assert img.getpixel((2, 2))[3] == 0 and img.getpixel((160, 120))[3] == 255
    r = client.get(f"/api/v1/assets/{gen['outputs'][0]['asset_id']}", headers=brand_a.h())
    assert r.json()["kind"] == "derived"


def test_generate_local_is_labelled_and_vectorised_for_engraving(client, db, brand_a):
    ids = seed_catalog(brand_a)
    r = client.post(
        f"{API}/generate", json={"prompt": "a heart and a star for Emma", "size": 256}, headers=brand_a.h()
    )
    assert r.status_code == 200, r.text
    gen = r.json()
    assert (gen["provider"], gen["model"]) == ("local", "clipart-composer")
    assert gen["result"]["label"] == "local:clipart-composer"
    types = [o["content_type"] for o in gen["outputs"]]
    assert types == ["image/png", "image/svg+xml"]
    assert _image(client, gen["outputs"][0]["url"]).size == (256, 256)
    r = client.post(
        f"{API}/generate",
        json={"prompt": "a heart", "size": 256, "product_id": ids["DEMO-PENDANT"]},
        headers=brand_a.h(),
    )
    gen = r.json()
    vec = gen["result"]["vector"]
    assert vec["contours"] > 0 and vec["fill"] == "#000000"
    svg = client.get(next(o["url"] for o in gen["outputs"] if o["asset_id"] == vec["asset_id"])).text
    assert svg.startswith("<svg") and 'fill="#000000"' in svg and 'fill-rule="evenodd"' in svg
    assert _balance(db, brand_a.id) == 40


def test_text_to_design_pendant_en_and_fr(client, db, brand_a):
    ids = seed_catalog(brand_a)
    r = client.post(
        f"{API}/text-to-design",
        json={"prompt": "gold script name Emma on the round pendant"},
        headers=brand_a.h(),
    )
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert res["valid"] and res["violations"] == [] and len(res["spec_hash"]) == 64
    assert res["plan"]["product_id"] == ids["DEMO-PENDANT"] and res["planner"] == "local"
    arc = res["spec"]["inputs"]["arc_text"]
    assert (arc["text"], arc["font"], arc["color"]) == ("Emma", "fnt_script", "#c9a227")
    # The stored spec is usable by the designs API.
    assert client.get(f"/api/v1/specs/{res['spec_hash']}", headers=brand_a.h()).status_code == 200
    r = client.post(
        f"{API}/text-to-design", json={"prompt": "prénom Léa en doré sur le pendentif"}, headers=brand_a.h()
    )
    res = r.json()["result"]
    assert res["valid"] and res["spec"]["inputs"]["arc_text"]["text"] == "Léa"
    # On the mug the photo is required: the answer says so.
    r = client.post(
        f"{API}/text-to-design", json={"prompt": "prénom Léa en doré sur le mug"}, headers=brand_a.h()
    )
    res = r.json()["result"]
    assert not res["valid"] and res["spec"] is None
    assert [v["zone"] for v in res["violations"]] == ["photo"]
    assert res["plan"]["inputs"]["name"]["color"] == "#c9a227"
    assert _balance(db, brand_a.id) == 50 - 3 * 3


def test_text_to_design_without_text_is_422_uncharged(client, db, brand_a):
    seed_catalog(brand_a)
    r = client.post(f"{API}/text-to-design", json={"prompt": "on the pendant"}, headers=brand_a.h())
    assert r.status_code == 422 and r.json()["code"] == "no_text_found"
    assert _balance(db, brand_a.id) == 50


# --------------------------------------------------------------------------- refusals


def test_chat_without_provider_is_503_and_free(client, db, brand_a):
    r = client.post(
        f"{API}/chat", json={"messages": [{"role": "user", "content": "hello"}]}, headers=brand_a.h()
    )
    assert r.status_code == 503
    body = r.json()
    assert body["code"] == "ai_provider_not_configured"
    assert "LUNEO_OPENAI_API_KEY" in body["detail"] and "LUNEO_ANTHROPIC_API_KEY" in body["detail"]
    assert _ledger(db, brand_a.id) == [("grant", 50, None)]


def test_moderation_rejects_before_charging(client, db, brand_a):
    _set_brand_settings(db, brand_a.id, blocked_terms=["competitor brand"])
    r = client.post(f"{API}/generate", json={"prompt": "logo of Competitor Brand"}, headers=brand_a.h())
    assert r.status_code == 422
    assert r.json()["code"] == "prompt_rejected" and r.json()["matched_terms"] == ["competitor brand"]
    r = client.post(f"{API}/text-to-design", json={"prompt": "name N4zi on the mug"}, headers=brand_a.h())
    assert r.status_code == 422 and r.json()["categories"] == ["hate"]
    r = client.post(
        f"{API}/chat", json={"messages": [{"role": "user", "content": "porn"}]}, headers=brand_a.h()
    )
    assert r.status_code == 422
    assert _ledger(db, brand_a.id) == [("grant", 50, None)]


def test_out_of_credits_is_402(client, db, brand_a):
    from luneo.credits import service as credits
    from luneo.platform.tenancy import bind_tenant

    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        credits.debit(s, brand_a.id, 50, "test.drain", "test:drain")
    asset = _upload(client, brand_a, _photo_png())
    r = client.post(f"{API}/extract-colors", json={"asset_id": asset}, headers=brand_a.h())
    assert r.status_code == 402 and r.json()["code"] == "insufficient_credits"
    assert client.get(f"{API}/generations", headers=brand_a.h()).json()["data"] == []


def test_foreign_asset_and_product_are_404(client, db, brand_a, brand_b):
    ids_a = seed_catalog(brand_a)
    asset_a = upload_png(client, brand_a, size=(64, 48))["id"]
    for path, body in [
        ("extract-colors", {"asset_id": asset_a}),
        ("upscale", {"asset_id": asset_a}),
        ("smart-crop", {"asset_id": asset_a, "aspect_ratio": 1}),
        ("background-removal", {"asset_id": asset_a}),
        ("text-to-design", {"prompt": "name Emma", "product_id": ids_a["DEMO-PENDANT"]}),
        ("generate", {"prompt": "a star", "product_id": ids_a["DEMO-PENDANT"]}),
    ]:
        r = client.post(f"{API}/{path}", json=body, headers=brand_b.h())
        assert r.status_code == 404, (path, r.text)
    assert _ledger(db, brand_b.id) == [("grant", 50, None)]


def test_publishable_key_cannot_use_ai(client, brand_a):
    r = client.post(f"{API}/generate", json={"prompt": "a star"}, headers=brand_a.h("pk"))
    assert r.status_code == 403


def test_unknown_fields_are_422(client, brand_a):
    r = client.post(f"{API}/generate", json={"prompt": "a star", "price": 0}, headers=brand_a.h())
    assert r.status_code == 422


# --------------------------------------------------------------------------- remote providers


def _use_openai(monkeypatch: pytest.MonkeyPatch, server: ProtocolServer) -> None:
    from luneo.ai.providers import reset_providers
    from luneo.platform import config

    monkeypatch.setenv("LUNEO_OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("LUNEO_OPENAI_BASE_URL", server.url + "/v1")
    config.get_settings.cache_clear()
    reset_providers()


def test_provider_failure_refunds_credits(client, db, brand_a, server, monkeypatch, caplog, capfd):
    _use_openai(monkeypatch, server)
    server.json_route(
        "POST",
        "/v1/images/generations",
        {"error": {"message": f"boom {OPENAI_KEY}", "type": "server_error", "code": None}},
        status=500,
    )
    caplog.set_level(logging.DEBUG)
    r = client.post(f"{API}/generate", json={"prompt": "a fox"}, headers=brand_a.h())
    assert r.status_code == 202, r.text
    gen_id = r.json()["id"]
    assert r.json()["provider"] == "openai" and r.json()["model"] == "dall-e-3"
    assert _balance(db, brand_a.id) == 45
    assert _run_jobs(db, gen_id) == "failed"
    assert len([q for q in server.requests if q.path == "/v1/images/generations"]) == 3  # 3 attempts
    gen = client.get(f"{API}/generations/{gen_id}", headers=brand_a.h()).json()
    assert gen["status"] == "failed" and gen["error"]["code"] == "ai_provider_error"
    assert _balance(db, brand_a.id) == 50
    assert [k for k, _, _ in _ledger(db, brand_a.id)] == ["grant", "usage", "refund"]
    assert_ledger_consistent(db)
    # A synchronous call (chat) failing at the provider is refunded at once.
    server.json_route(
        "POST", "/v1/chat/completions", {"error": {"message": "x", "type": "server_error"}}, status=500
    )
    r = client.post(
        f"{API}/chat", json={"messages": [{"role": "user", "content": "hi"}]}, headers=brand_a.h()
    )
    assert r.status_code == 502 and r.json()["code"] == "ai_provider_error"
    assert _balance(db, brand_a.id) == 50
    # The key never reached a client answer or a log.
    history = client.get(f"{API}/generations", headers=brand_a.h()).text
    for text in (history, r.text, caplog.text, *capfd.readouterr()):
        assert OPENAI_KEY not in text


def test_openai_generate_and_chat_succeed(client, db, brand_a, server, monkeypatch):

    from tests.unit.ai.test_providers import images_answer

    _use_openai(monkeypatch, server)
    server.json_route("POST", "/v1/images/generations", images_answer(_photo_png((64, 64))))
    server.json_route("POST", "/v1/chat/completions", chat_completion("Use the script font."))
    r = client.post(f"{API}/generate", json={"prompt": "a fox", "size": 512}, headers=brand_a.h())
    gen_id = r.json()["id"]
    assert _run_jobs(db, gen_id) == "success"
    gen = client.get(f"{API}/generations/{gen_id}", headers=brand_a.h()).json()
    assert gen["status"] == "succeeded" and gen["result"]["revised_prompt"] == "a revised prompt"
    assert _image(client, gen["outputs"][0]["url"]).size == (64, 64)
    assert server.requests[0].json()["size"] == "512x512"
    r = client.post(
        f"{API}/chat", json={"messages": [{"role": "user", "content": "font?"}]}, headers=brand_a.h()
    )
    assert r.status_code == 200, r.text
    assert r.json()["result"]["message"] == {"role": "assistant", "content": "Use the script font."}
    assert r.json()["provider"] == "openai" and r.json()["credits"] == 1
    body = server.requests[-1].json()
    assert body["model"] == "gpt-4o-mini" and body["messages"][-1] == {"role": "user", "content": "font?"}


def test_text_to_design_llm_plan_and_fallback(client, db, brand_a, server, monkeypatch):
    import json

    ids = seed_catalog(brand_a)
    _use_openai(monkeypatch, server)
    plan = {
        "product_sku": "DEMO-PENDANT",
        "zone": "arc_text",
        "text": "Emma",
        "font": "fnt_script",
        "color": "#d4af37",
    }
    server.json_route("POST", "/v1/chat/completions", chat_completion(json.dumps(plan)))
    res = client.post(
        f"{API}/text-to-design", json={"prompt": "gold script Emma pendant"}, headers=brand_a.h()
    ).json()["result"]
    assert res["planner"] == "llm" and res["valid"]
    assert res["spec"]["inputs"]["arc_text"]["color"] == "#c9a227"
    assert server.requests[-1].json()["response_format"] == {"type": "json_object"}
    server.json_route("POST", "/v1/chat/completions", {"error": {"message": "x"}}, status=500)
    res = client.post(
        f"{API}/text-to-design", json={"prompt": "gold script name Emma on the pendant"}, headers=brand_a.h()
    ).json()["result"]
    assert res["planner"] == "local" and res["valid"] and "llm_error" in res
    assert res["plan"]["product_id"] == ids["DEMO-PENDANT"]


def test_brand_setting_picks_provider(client, db, brand_a, server, monkeypatch):
    _use_openai(monkeypatch, server)
    _set_brand_settings(db, brand_a.id, ai_provider={"image": "local"})
    r = client.post(f"{API}/generate", json={"prompt": "a star", "size": 256}, headers=brand_a.h())
    assert r.status_code == 200 and r.json()["provider"] == "local"
    assert server.requests == []


# --------------------------------------------------------------------------- history


def test_history_pagination_and_filters(client, db, brand_a, brand_b):
    asset = _upload(client, brand_a, _photo_png((64, 48)))
    made = [
        client.post(f"{API}/extract-colors", json={"asset_id": asset}, headers=brand_a.h()).json()["id"]
        for _ in range(3)
    ]
    made.append(
        client.post(
            f"{API}/smart-crop", json={"asset_id": asset, "aspect_ratio": 1}, headers=brand_a.h()
        ).json()["id"]
    )
    page1 = client.get(f"{API}/generations?limit=3", headers=brand_a.h()).json()
    page2 = client.get(f"{API}/generations?limit=3&cursor={page1['next_cursor']}", headers=brand_a.h()).json()
    assert [g["id"] for g in page1["data"] + page2["data"]] == made[::-1]
    assert page2["next_cursor"] is None
    crops = client.get(f"{API}/generations?operation=smart_crop", headers=brand_a.h()).json()["data"]
    assert [g["id"] for g in crops] == [made[3]] and crops[0]["outputs"][0]["url"]
    assert client.get(f"{API}/generations?status=failed", headers=brand_a.h()).json()["data"] == []
    assert client.get(f"{API}/generations", headers=brand_b.h()).json()["data"] == []
    assert client.get(f"{API}/generations/{made[0]}", headers=brand_b.h()).status_code == 404
    assert client.get(f"{API}/generations?operation=nope", headers=brand_a.h()).status_code == 422
