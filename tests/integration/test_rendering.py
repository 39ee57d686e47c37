"""Rendering over HTTP: previews (cached, ETag, one job), final renders (credits, 3D), jobs, cleanup, CLI.

Jobs are run in-process and deterministically: the app starts no worker threads, and
`run_jobs` claims and executes the pending job rows itself through `jobs.execute`.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.integration.demo import upload_png

RENDER_ACTORS = ("render_preview", "render_final", "asset_convert", "cleanup")


@pytest.fixture(autouse=True)
def fresh_storage(settings):
    """Storage rooted in this test's data dir (the process-wide one is built lazily)."""
    from luneo.platform.storage import set_storage

    set_storage(None)
    yield
    set_storage(None)


def run_jobs(db: Any, actors: tuple[str, ...] = RENDER_ACTORS, max_rounds: int = 20) -> dict[str, str]:
    """Execute every due job of `actors` until none is left; returns {job_id: last outcome}."""
    from luneo.platform import jobs
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    outcomes: dict[str, str] = {}
    for _ in range(max_rounds):
        with db.transaction(write=False) as s:
            bind_system(s)
            ids = list(
                s.execute(sa.select(Job.id).where(Job.status == "pending", Job.actor.in_(actors))).scalars()
            )
        if not ids:
            return outcomes
        for job_id in ids:
            with db.transaction() as s:  # retries are due at once here: the test drives time
                bind_system(s)
                s.execute(sa.update(Job).where(Job.id == job_id).values(next_run_at=None))
            outcomes[job_id] = jobs.execute(db, job_id, worker_id="test-worker", watchdog=False)
    raise AssertionError("jobs kept coming back")


def count_jobs(db: Any, actor: str) -> int:
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    with db.transaction(write=False) as s:
        bind_system(s)
        return int(
            s.execute(sa.select(sa.func.count()).select_from(Job).where(Job.actor == actor)).scalar_one()
        )


def _pendant(name: str = "Emma", initial: str = "E") -> dict[str, Any]:
    return {"arc_text": {"text": name, "font": "fnt_serif"}, "initial": {"text": initial}}


def pk(brand) -> dict[str, str]:
    """Widget headers: the publishable key and one shopper's token (widget objects are bound to it)."""
    return brand.h("pk", **{"X-Shopper-Token": "shopper-token-rendering-01"})


def make_spec(
    client, brand, product_id: str, inputs: dict[str, Any], headers: dict[str, str] | None = None
) -> str:
    r = client.post(
        "/api/v1/specs", json={"product_id": product_id, "inputs": inputs}, headers=headers or brand.h()
    )
    assert r.status_code == 201, r.text
    return str(r.json()["spec_hash"])


def make_snapshot(client, brand, spec_hash: str, headers: dict[str, str] | None = None) -> str:
    r = client.post("/api/v1/snapshots", json={"spec_hash": spec_hash}, headers=headers or brand.h())
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])


def demo_inputs(client, brand, sku: str, photo_id: str) -> dict[str, Any]:
    return {
        "DEMO-PENDANT": _pendant(),
        "DEMO-MUG": {"photo": {"kind": "image", "asset_id": photo_id}, "name": {"text": "Léa"}},
        "DEMO-TSHIRT": {"photo": {"kind": "image", "asset_id": photo_id}, "slogan": {"text": "Hello"}},
        "DEMO-SIGN": {"title": {"text": "Chez Nous"}, "subtitle": {"text": "depuis 2024"}},
        "DEMO-PHONE": {"photo": {"kind": "image", "asset_id": photo_id}, "initials": {"text": "AB"}},
        "DEMO-CARD": {"name": {"text": "Ada Lovelace"}, "title": {"text": "Engineer"}},
    }[sku]


def grant(brand_id: str, amount: int, ref: str = "test-grant") -> None:
    from luneo.credits import service as credits
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    with get_db().transaction() as s:
        bind_tenant(s, brand_id)
        credits.grant(s, brand_id, amount, ref)


def set_balance(brand_id: str, amount: int) -> None:
    """Bring the brand's balance to `amount` (brands start with signup credits)."""
    from luneo.credits import service as credits
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    delta = amount - balance(brand_id)
    if delta:
        with get_db().transaction() as s:
            bind_tenant(s, brand_id)
            credits.adjust(s, brand_id, delta, f"test-set-{amount}-{delta}", reason="test")


def balance(brand_id: str) -> int:
    from luneo.credits import service as credits
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant

    with get_db().transaction(write=False) as s:
        bind_tenant(s, brand_id)
        return credits.get_balance(s, brand_id)


# --------------------------------------------------------------------------- previews


def test_preview_is_one_job_then_cached_with_etag(client, brand_a, cat_a, db):
    spec_hash = make_spec(client, brand_a, cat_a["DEMO-PENDANT"], _pendant(), pk(brand_a))
    body = {"spec_hash": spec_hash, "width": 300, "format": "png"}
    r1 = client.post("/api/v1/renders/preview", json=body, headers=pk(brand_a))
    r2 = client.post("/api/v1/renders/preview", json=body, headers=pk(brand_a))
    assert r1.status_code == r2.status_code == 202, r1.text
    rid = r1.json()["render_id"]
    assert rid == r2.json()["render_id"] and rid.startswith("rnd_") and len(rid) == 36
    assert r1.json()["status_url"].endswith(f"/api/v1/renders/{rid}/status")
    assert count_jobs(db, "render_preview") == 1  # asked twice, enqueued once

    not_ready = client.get(f"/api/v1/renders/{rid}/preview", headers=pk(brand_a))
    assert not_ready.status_code == 409 and not_ready.json()["code"] == "render_not_ready"
    st = client.get(f"/api/v1/renders/{rid}/status", headers=pk(brand_a)).json()
    assert st["status"] == "pending" and st["outputs"] == {}

    assert set(run_jobs(db).values()) == {"success"}
    st = client.get(f"/api/v1/renders/{rid}/status", headers=pk(brand_a)).json()
    assert st["status"] == "success" and st["progress"] == 1.0 and st["kind"] == "preview"
    assert set(st["outputs"]) == {"png"} and {"scene_ms", "raster_ms", "store_ms"} <= set(st["timings"])

    img = client.get(f"/api/v1/renders/{rid}/preview", headers=pk(brand_a))
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    assert img.headers["cache-control"] == "private, max-age=86400"  # read with a credential
    import hashlib

    assert img.headers["etag"] == f'"{hashlib.sha256(img.content).hexdigest()}"'
    assert Image.open(io.BytesIO(img.content)).size[0] == 300
    again = client.get(
        f"/api/v1/renders/{rid}/preview", headers={**pk(brand_a), "If-None-Match": img.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    other = client.get(f"/api/v1/renders/{rid}/preview", headers={**pk(brand_a), "If-None-Match": '"nope"'})
    assert other.status_code == 200

    cached = client.post("/api/v1/renders/preview", json=body, headers=pk(brand_a))
    assert cached.status_code == 200 and cached.json()["status"] == "success"
    assert set(cached.json()["outputs"]) == {"png"} and cached.json()["preview_url"]
    assert count_jobs(db, "render_preview") == 1  # cached: no new job
    # The signed URL serves the same bytes.
    url = cached.json()["outputs"]["png"]
    assert client.get(url[url.index("/files/") :]).content == img.content


def test_same_spec_hash_gives_byte_identical_previews(client, brand_a, cat_a, db):
    from luneo.designs.resources import BrandResources, stored_files
    from luneo.platform.tenancy import bind_tenant
    from luneo.rendering import pipeline

    photo = upload_png(client, brand_a)
    spec_hash = make_spec(
        client, brand_a, cat_a["DEMO-MUG"], demo_inputs(client, brand_a, "DEMO-MUG", photo["id"])
    )
    got: dict[str, bytes] = {}
    for fmt in ("png", "webp"):
        r = client.post(
            "/api/v1/renders/preview",
            json={"spec_hash": spec_hash, "width": 512, "format": fmt},
            headers=brand_a.h(),
        )
        run_jobs(db)
        got[fmt] = client.get(f"/api/v1/renders/{r.json()['render_id']}/preview", headers=brand_a.h()).content
    # A second, independent render of the same spec hash (fresh caches) gives the same bytes.
    stored_files.clear()
    from luneo.designs.models import DesignSpecRow

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        row = s.execute(sa.select(DesignSpecRow).where(DesignSpecRow.spec_hash == spec_hash)).scalar_one()
        spec = pipeline.load_spec(row.spec)
        again = pipeline.render_spec(spec, spec_hash, BrandResources(s), ["png", "webp"], width=512)
    assert again.files["png"].data == got["png"]
    assert again.files["webp"].data == got["webp"]
    assert got["webp"][:4] == b"RIFF" and got["png"][:8] == b"\x89PNG\r\n\x1a\n"


def test_every_demo_product_renders_preview_and_final(client, brand_a, cat_a, db):
    from luneo.catalog.seed import DEMO_PRODUCTS

    grant(brand_a.id, 1000)
    photo = upload_png(client, brand_a, size=(2400, 1800))
    finals: dict[str, str] = {}
    previews: dict[str, str] = {}
    for product in DEMO_PRODUCTS:
        sku = product["sku"]
        spec_hash = make_spec(client, brand_a, cat_a[sku], demo_inputs(client, brand_a, sku, photo["id"]))
        r = client.post(
            "/api/v1/renders/preview", json={"spec_hash": spec_hash, "width": 256}, headers=brand_a.h()
        )
        assert r.status_code == 202, r.text
        previews[sku] = r.json()["render_id"]
        if product.get("model3d"):
            snap = make_snapshot(client, brand_a, spec_hash)
            f = client.post("/api/v1/renders/final", json={"snapshot_id": snap}, headers=brand_a.h())
            assert f.status_code == 202, f.text
            finals[sku] = f.json()["render_id"]
    outcomes = run_jobs(db)
    assert set(outcomes.values()) == {"success"}, outcomes
    for sku, rid in previews.items():
        img = client.get(f"/api/v1/renders/{rid}/preview", headers=brand_a.h())
        assert img.status_code == 200, (sku, img.text)
        assert len(img.content) > 500 and Image.open(io.BytesIO(img.content)).size[0] == 256, sku
    assert set(finals) == {"DEMO-PENDANT", "DEMO-MUG", "DEMO-PHONE", "DEMO-CARD", "DEMO-SIGN"}
    for sku, rid in finals.items():
        st = client.get(f"/api/v1/renders/{rid}/status", headers=brand_a.h()).json()
        assert st["status"] == "success", (sku, st)
        assert set(st["outputs"]) == {"print", "svg", "glb", "usdz", "png"}, sku
        assert st["files"]["glb"]["content_type"] == "model/gltf-binary"
        glb_url, usdz_url = st["outputs"]["glb"], st["outputs"]["usdz"]
        assert client.get(glb_url[glb_url.index("/files/") :]).content[:4] == b"glTF"
        assert client.get(usdz_url[usdz_url.index("/files/") :]).content[:2] == b"PK"
        assert {"glb_ms", "usdz_ms", "print_ms", "scene_ms"} <= set(st["timings"])
        snap = client.get(f"/api/v1/snapshots/{st['snapshot_id']}", headers=brand_a.h()).json()
        assert snap["assets"]["final_render_id"] == rid
        assert snap["assets"]["final_glb"]["sha256"] == st["files"]["glb"]["sha256"]


def test_preview_from_snapshot_is_linked_and_isolated(client, brand_a, brand_b, cat_a, db):
    spec_hash = make_spec(client, brand_a, cat_a["DEMO-CARD"], {"name": {"text": "Ada"}}, pk(brand_a))
    snap = make_snapshot(client, brand_a, spec_hash, pk(brand_a))
    r = client.post(
        "/api/v1/renders/preview",
        json={"snapshot_id": snap, "width": 128, "format": "webp"},
        headers=pk(brand_a),
    )
    assert r.status_code == 202, r.text
    rid = r.json()["render_id"]
    run_jobs(db)
    st = client.get(f"/api/v1/renders/{rid}/status", headers=brand_a.h()).json()
    assert st["snapshot_id"] == snap and st["spec_hash"] == spec_hash
    assert (
        client.get(f"/api/v1/snapshots/{snap}", headers=brand_a.h()).json()["assets"]["previews"]["webp_128"][
            "render_id"
        ]
        == rid
    )
    # Another brand sees nothing: not the render, not the spec, not the snapshot.
    for path in (f"/api/v1/renders/{rid}/status", f"/api/v1/renders/{rid}/preview"):
        foreign = client.get(path, headers=pk(brand_b))
        ghost = client.get(path.replace(rid, "rnd_" + "0" * 32), headers=pk(brand_b))
        assert foreign.status_code == ghost.status_code == 404
    for body in ({"spec_hash": spec_hash}, {"snapshot_id": snap}):
        assert client.post("/api/v1/renders/preview", json=body, headers=pk(brand_b)).status_code == 404
    assert (
        client.post("/api/v1/renders/final", json={"snapshot_id": snap}, headers=brand_b.h()).status_code
        == 404
    )


def test_requests_carry_ids_only(client, brand_a, cat_a):
    spec_hash = make_spec(client, brand_a, cat_a["DEMO-PENDANT"], _pendant(), pk(brand_a))
    bad = [
        {"spec_hash": spec_hash, "url": "http://169.254.169.254/"},
        {"spec_hash": spec_hash, "width": 4096},
        {"spec_hash": spec_hash, "width": 10},
        {"spec_hash": spec_hash, "format": "gif"},
        {},
        {"spec_hash": spec_hash, "snapshot_id": "snap_x"},
        {"spec_hash": "../../etc/passwd"},
    ]
    for body in bad:
        r = client.post("/api/v1/renders/preview", json=body, headers=pk(brand_a))
        assert r.status_code == 422, (body, r.text)
    assert (
        client.post("/api/v1/renders/preview", json={"spec_hash": "a" * 64}, headers=pk(brand_a)).status_code
        == 404
    )
    # Publishable keys may preview but not order a (paid) final render.
    assert (
        client.post("/api/v1/renders/final", json={"snapshot_id": "snap_x"}, headers=pk(brand_a)).status_code
        == 403
    )


# --------------------------------------------------------------------------- final renders and credits


def test_final_is_charged_once_and_refunded_when_it_fails_for_good(client, brand_a, cat_a, db):
    from luneo.platform.tenancy import bind_tenant

    photo = upload_png(client, brand_a)
    spec_hash = make_spec(
        client, brand_a, cat_a["DEMO-MUG"], demo_inputs(client, brand_a, "DEMO-MUG", photo["id"])
    )
    snap = make_snapshot(client, brand_a, spec_hash)
    set_balance(brand_a.id, 0)
    poor = client.post("/api/v1/renders/final", json={"snapshot_id": snap}, headers=brand_a.h())
    assert poor.status_code == 402 and poor.json()["code"] == "insufficient_credits"
    assert count_jobs(db, "render_final") == 0

    set_balance(brand_a.id, 20)
    r1 = client.post("/api/v1/renders/final", json={"snapshot_id": snap}, headers=brand_a.h("sk"))
    r2 = client.post("/api/v1/renders/final", json={"snapshot_id": snap}, headers=brand_a.h())
    assert r1.status_code == r2.status_code == 202 and r1.json()["render_id"] == r2.json()["render_id"]
    assert balance(brand_a.id) == 12 and count_jobs(db, "render_final") == 1  # 8 credits, once

    # The upload disappears behind the snapshot's back (the catalog itself refuses: it is in use).
    assert (
        client.delete(f"/api/v1/assets/{photo['id']}", headers=brand_a.h()).json()["code"] == "asset_in_use"
    )
    from luneo.designs.resources import stored_files

    stored_files.clear()
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        s.execute(sa.text("delete from assets where id = :i"), {"i": photo["id"]})
    assert set(run_jobs(db, ("render_final",)).values()) == {"failed"}  # missing input: permanent, no retry
    rid = r1.json()["render_id"]
    st = client.get(f"/api/v1/renders/{rid}/status", headers=brand_a.h()).json()
    assert st["status"] == "failed" and "LookupError" in st["error"]
    assert balance(brand_a.id) == 20  # refunded
    assert client.get(f"/api/v1/renders/{rid}/preview", headers=brand_a.h()).json()["code"] == "render_failed"
    # Asking again is a new attempt with a new charge (and a new job).
    r3 = client.post("/api/v1/renders/final", json={"snapshot_id": snap}, headers=brand_a.h())
    assert r3.status_code == 202 and r3.json()["render_id"] == rid
    assert balance(brand_a.id) == 12 and count_jobs(db, "render_final") == 2


def test_final_success_is_kept_and_not_charged_again(client, brand_a, cat_a, db):
    set_balance(brand_a.id, 20)
    spec_hash = make_spec(client, brand_a, cat_a["DEMO-SIGN"], {"title": {"text": "Atelier"}})
    snap = make_snapshot(client, brand_a, spec_hash)
    r = client.post("/api/v1/renders/final", json={"snapshot_id": snap}, headers=brand_a.h())
    assert r.status_code == 202
    assert set(run_jobs(db).values()) == {"success"}
    done = client.post("/api/v1/renders/final", json={"snapshot_id": snap}, headers=brand_a.h())
    # the demo sign has a 3D model (catalog seed `model3d`), so the final render adds GLB + USDZ;
    # `render.highres` (8 credits) covers all of them and is charged once per render
    outputs = set(done.json()["outputs"])
    assert done.status_code == 200 and outputs == {"print", "svg", "png", "glb", "usdz"}
    assert balance(brand_a.id) == 12 and count_jobs(db, "render_final") == 1
    again = client.post("/api/v1/renders/final", json={"snapshot_id": snap}, headers=brand_a.h())
    assert again.status_code == 200 and set(again.json()["outputs"]) == outputs
    assert balance(brand_a.id) == 12 and count_jobs(db, "render_final") == 1
    svg_url = done.json()["outputs"]["svg"]
    svg = client.get(svg_url[svg_url.index("/files/") :])
    assert svg.content.startswith(b"<?xml") and "attachment" in svg.headers["content-disposition"]
    # Print PNG at the product's DPI (300 by default): 300 mm ⇒ 3543 px.
    print_url = done.json()["outputs"]["print"]
    png = Image.open(io.BytesIO(client.get(print_url[print_url.index("/files/") :]).content))
    assert png.size[0] == round(300 / 25.4 * 300)


def test_job_that_died_at_its_time_limit_is_reported_failed_and_refunded(client, brand_a, cat_a, db):
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    set_balance(brand_a.id, 8)
    snap = make_snapshot(client, brand_a, make_spec(client, brand_a, cat_a["DEMO-PENDANT"], _pendant()))
    rid = client.post("/api/v1/renders/final", json={"snapshot_id": snap}, headers=brand_a.h()).json()[
        "render_id"
    ]
    assert balance(brand_a.id) == 0
    with db.transaction() as s:  # what the sweeper leaves after the last attempt timed out
        bind_system(s)
        s.execute(
            sa.update(Job)
            .where(Job.actor == "render_final")
            .values(status="failed", attempts=4, error="time limit of 300s exceeded")
        )
    st = client.get(f"/api/v1/renders/{rid}/status", headers=brand_a.h()).json()
    assert st["status"] == "failed" and "time limit" in st["error"]
    assert balance(brand_a.id) == 8


# --------------------------------------------------------------------------- assets and cleanup


def test_asset_convert_and_cleanup_keep_what_is_referenced(client, brand_a, cat_a, db, monkeypatch):
    from luneo.catalog.models import Asset
    from luneo.platform.clock import utcnow
    from luneo.platform.storage import get_storage
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.rendering import service
    from luneo.rendering.models import AssetVariant, RenderResult

    used = upload_png(client, brand_a, size=(3000, 1500))
    orphan = upload_png(client, brand_a, color="#aa0000")
    with db.transaction() as s:
        bind_tenant(s, brand_a.id)
        assert service.request_asset_conversion(s, used["id"]) is not None
    assert set(run_jobs(db, ("asset_convert",)).values()) == {"success"}
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        variants = service.asset_variants(s, used["id"])
        assert set(variants) == {"web_jpeg", "web_webp", "thumb_webp"}
        sizes = {
            v.variant: (v.width_px, v.height_px)
            for v in s.execute(sa.select(AssetVariant).where(AssetVariant.asset_id == used["id"])).scalars()
        }
    assert sizes == {"web_jpeg": (2048, 1024), "web_webp": (2048, 1024), "thumb_webp": (400, 200)}

    spec_hash = make_spec(
        client, brand_a, cat_a["DEMO-MUG"], demo_inputs(client, brand_a, "DEMO-MUG", used["id"])
    )
    make_snapshot(client, brand_a, spec_hash)
    old_preview = client.post(
        "/api/v1/renders/preview", json={"spec_hash": spec_hash, "width": 64}, headers=brand_a.h()
    ).json()["render_id"]
    run_jobs(db)
    with db.transaction(write=False) as s:
        bind_system(s)
        key = s.execute(sa.select(RenderResult.outputs)).scalar_one()["png"]["key"]
    monkeypatch.setattr(service, "utcnow", lambda: utcnow() + timedelta(days=90))  # cleanup runs in 90 days
    assert service.cleanup(db) >= 2
    with db.transaction(write=False) as s:
        bind_system(s)
        left = set(s.execute(sa.select(Asset.id)).scalars())
        assert s.execute(sa.select(RenderResult.render_id)).first() is None  # expired preview gone
    assert used["id"] in left and orphan["id"] not in left  # the snapshot keeps its upload
    assert set(variants.values()) <= left  # variants of a live upload are kept
    assert not get_storage().exists(key)
    assert client.get(f"/api/v1/renders/{old_preview}/status", headers=brand_a.h()).status_code == 404


# --------------------------------------------------------------------------- CLI


def test_cli_renders_files_and_rejects_bad_input(client, brand_a, cat_a, tmp_path):
    from typer.testing import CliRunner

    from luneo.rendering.cli import app

    photo = tmp_path / "photo.png"
    Image.new("RGB", (1400, 1000), "#118844").save(photo)
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "render",
            "--product",
            "DEMO-MUG",
            "--set",
            "name=Zoé",
            "--set",
            f"photo=@{photo}",
            "--formats",
            "png,webp,svg,glb,usdz,pdf,dxf,pack",
            "--out",
            str(out),
            "--brand",
            brand_a.slug,
            "--width",
            "400",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "spec_hash " in res.stdout
    names = {p.name for p in out.iterdir()}
    assert names == {
        "preview.png",
        "preview.webp",
        "design.svg",
        "model.glb",
        "model.usdz",
        "design.pdf",
        "design.dxf",
        "pack.zip",
    }
    assert Image.open(out / "preview.png").size[0] == 400
    assert (out / "model.glb").read_bytes()[:4] == b"glTF" and (out / "design.pdf").read_bytes()[
        :5
    ] == b"%PDF-"
    for name in names:
        assert f"{out / name}\t{(out / name).stat().st_size} bytes" in res.stdout
    # Same inputs, same bytes (the spec hash is printed identically).
    again = runner.invoke(
        app,
        [
            "render",
            "--product",
            "DEMO-MUG",
            "--set",
            "name=Zoé",
            "--set",
            f"photo=@{photo}",
            "--formats",
            "png",
            "--out",
            str(tmp_path / "again"),
            "--brand",
            brand_a.slug,
            "--width",
            "400",
        ],
    )
    assert again.exit_code == 0
    assert (tmp_path / "again" / "preview.png").read_bytes() == (out / "preview.png").read_bytes()

    bad = runner.invoke(
        app,
        [
            "render",
            "--product",
            "DEMO-PENDANT",
            "--set",
            "initial=ab",
            "--set",
            "ghost=x",
            "--out",
            str(tmp_path / "bad"),
            "--brand",
            brand_a.slug,
        ],
    )
    assert bad.exit_code == 1
    assert "violation  initial" in bad.output and "violation  ghost  unknown_zone" in bad.output
    assert not (tmp_path / "bad").exists()
    missing = runner.invoke(
        app, ["render", "--product", "NOPE", "--out", str(tmp_path / "x"), "--brand", brand_a.slug]
    )
    assert missing.exit_code == 2


def test_preview_of_a_saved_design_respects_the_shopper_token(client, brand_a, cat_a, db):
    token = "shopper-token-0123456789"
    d = client.post(
        "/api/v1/designs",
        json={"name": "mine", "product_id": cat_a["DEMO-PENDANT"], "inputs": _pendant()},
        headers=brand_a.h("pk", **{"X-Shopper-Token": token}),
    )
    assert d.status_code == 201, d.text
    body = {"design_id": d.json()["id"], "width": 64}
    assert client.post("/api/v1/renders/preview", json=body, headers=brand_a.h("pk")).status_code == 422
    other = brand_a.h("pk", **{"X-Shopper-Token": "another-shopper-token-99"})
    assert client.post("/api/v1/renders/preview", json=body, headers=other).status_code == 404
    r = client.post(
        "/api/v1/renders/preview", json=body, headers=brand_a.h("pk", **{"X-Shopper-Token": token})
    )
    assert r.status_code == 202, r.text
    run_jobs(db)
    st = client.get(f"/api/v1/renders/{r.json()['render_id']}/status", headers=brand_a.h()).json()
    assert st["status"] == "success" and st["design_id"] == d.json()["id"]
