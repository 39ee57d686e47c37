"""One pack builder end to end (`luneo render --formats pack` vs the API's export pack), the
brand's file-name pattern (`settings.file_name_pattern`, validated by `PATCH /brand`) in the
production pack and the order bundle, and the per-order job ticket PDF."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess

import pytest

from tests.integration.factories.manufacturing import (
    CARD,
    PENDANT,
    fetch,
    paid_payload,
    publish,
    run_jobs,
    snapshot,
    unzip,
)

EXPORT = "/api/v1/manufacturing/export-pack"
A4_PT = (595.2756, 841.8898)


def _api_pack(client, brand, sid: str) -> dict[str, bytes]:
    first = client.post(EXPORT, json={"snapshot_id": sid}, headers=brand.h())
    assert first.status_code in (200, 202), first.text
    if first.status_code == 202:
        assert run_jobs() == ["success"]
    got = client.get(f"{EXPORT}/{first.json()['job_id']}", headers=brand.h()).json()
    return unzip(fetch(client, got["url"]).content)


@pytest.mark.parametrize(
    ("sku", "sets", "inputs"),
    [
        ("DEMO-PENDANT", ["arc_text=Emma", "initial=E"], PENDANT),
        ("DEMO-CARD", ["name=Marie Curie", "title=Physicist"], CARD),
    ],
)
def test_cli_render_pack_and_api_pack_are_the_same_files(client, brand_a, cat_a, tmp_path, sku, sets, inputs):
    from typer.testing import CliRunner

    from luneo.rendering.cli import app

    args = ["render", "--product", sku, "--formats", "pack", "--out", str(tmp_path), "--brand", brand_a.slug]
    for value in sets:
        args += ["--set", value]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    cli = unzip((tmp_path / "pack.zip").read_bytes())
    api = _api_pack(client, brand_a, snapshot(client, brand_a, cat_a[sku], inputs))
    assert sorted(cli) == sorted(api)
    for name in api:
        if name != "manifest.json":
            assert cli[name] == api[name], name
    cli_manifest, api_manifest = json.loads(cli["manifest.json"]), json.loads(api["manifest.json"])
    assert cli_manifest["files"] == api_manifest["files"]
    for entry in cli_manifest["files"]:
        data = cli[entry["name"]]
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()


def _release(client, brand, order_id: str) -> None:
    """Override the print checks of the order's `needs_review` items (the bundle needs every item
    ready; the checks stay listed on the ticket)."""
    wos = client.get("/api/v1/manufacturing/work-orders", headers=brand.h()).json()["data"]
    for wo in wos:
        if wo.get("order_id") == order_id and wo["status"] == "needs_review":
            r = client.post(
                f"/api/v1/manufacturing/work-orders/{wo['id']}/override-checks",
                json={"note": "test"},
                headers=brand.h(),
            )
            assert r.status_code == 200, r.text


def _patch(client, brand, settings: dict):
    return client.patch("/api/v1/brand", json={"settings": settings}, headers=brand.h())


@pytest.mark.parametrize(
    ("pattern", "token"),
    [("{order}-{colour}", "{colour}"), ("{order}/{item}", "/"), ("{sku", "{sku"), ("", "")],
)
def test_patch_brand_refuses_a_bad_pattern_with_a_problem_naming_the_token(client, brand_a, pattern, token):
    before = client.get("/api/v1/brand", headers=brand_a.h()).json()["settings"]
    r = _patch(client, brand_a, {**before, "file_name_pattern": pattern})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "file_name_pattern" in r.text and token in r.text
    assert client.get("/api/v1/brand", headers=brand_a.h()).json()["settings"] == before  # nothing written
    assert _patch(client, brand_a, {**before, "file_name_pattern": 12}).status_code == 422


def _ticket_checks(pdf: bytes, tmp_path) -> None:
    assert pdf.startswith(b"%PDF-")
    m = re.search(rb"/MediaBox \[\s*([-\d. ]+)\]", pdf)
    assert m
    x0, y0, x1, y1 = (float(v) for v in m.group(1).split())
    assert (x1 - x0, y1 - y0) == pytest.approx(A4_PT, abs=0.05)
    assert b"/Subtype /Image" in pdf  # the thumbnails
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        pytest.skip("qpdf not installed: PDF validation skipped")
    path = tmp_path / "ticket.pdf"
    path.write_bytes(pdf)
    proc = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _pdf_text(pdf: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_brand_pattern_names_the_pack_and_bundle_files_and_the_bundle_has_a_ticket(
    client, brand_a, brand_b, cat_a, tmp_path
):
    r = _patch(client, brand_a, {"file_name_pattern": "{order}_{item}_{sku}_{text}_x{qty}"})
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["file_name_pattern"] == "{order}_{item}_{sku}_{text}_x{qty}"
    s1 = snapshot(client, brand_a, cat_a["DEMO-PENDANT"], PENDANT)
    s2 = snapshot(client, brand_a, cat_a["DEMO-CARD"], CARD)
    s3 = snapshot(client, brand_a, cat_a["DEMO-CARD"], CARD)  # same values: names must not collide
    payload = paid_payload(brand_a, "ord_named", [("oi_n1", s1, 2), ("oi_n2", s2, 50), ("oi_n3", s3, 50)])
    publish("order.paid", payload)
    number = payload["number"]
    ticket_url = "/api/v1/manufacturing/bundles/ord_named/ticket"
    early = client.get(ticket_url, headers=brand_a.h())  # the ticket does not wait for the packs
    assert early.status_code == 200, early.text
    assert set(run_jobs()) == {"success"}
    _release(client, brand_a, "ord_named")
    got = client.get("/api/v1/manufacturing/bundles/ord_named", headers=brand_a.h())
    assert got.status_code == 200, got.text
    bundle = unzip(fetch(client, got.json()["url"]).content)
    assert set(bundle) == {
        "manifest.json",
        "ticket.pdf",
        f"items/{number}_1_DEMO-PENDANT_Emma_x2.zip",
        f"items/{number}_2_DEMO-CARD_Marie-Curie_x50.zip",
        f"items/{number}_3_DEMO-CARD_Marie-Curie_x50.zip",
    }
    pendant = unzip(bundle[f"items/{number}_1_DEMO-PENDANT_Emma_x2.zip"])
    stem = f"{number}_1_DEMO-PENDANT_Emma_x2"
    assert set(pendant) == {"manifest.json", *(f"{stem}.{ext}" for ext in ("svg", "pdf", "png", "dxf"))}
    card = unzip(bundle[f"items/{number}_2_DEMO-CARD_Marie-Curie_x50.zip"])
    assert f"{number}_2_DEMO-CARD_Marie-Curie_x50-cmyk.tif" in card
    manifest = json.loads(bundle["manifest.json"])
    listed = {f["name"]: f for f in manifest["files"]}
    assert listed["ticket.pdf"]["sha256"] == hashlib.sha256(bundle["ticket.pdf"]).hexdigest()
    for item in manifest["items"]:
        data = bundle[item["path"]]
        assert item["bytes"] == len(data) and item["sha256"] == hashlib.sha256(data).hexdigest()
    text = _pdf_text(bundle["ticket.pdf"], tmp_path)
    assert number in text and "DEMO-PENDANT" in text and "DEMO-CARD" in text
    assert "×2" in text and "×50" in text and "engrave" in text
    assert json.loads(pendant["manifest.json"])["meta"]["spec_hash"] in text
    # downloadable alone, the same ticket once every item is ready
    alone = client.get(ticket_url, headers=brand_a.h())
    assert alone.status_code == 200
    assert fetch(client, alone.json()["url"]).content == bundle["ticket.pdf"]
    _ticket_checks(bundle["ticket.pdf"], tmp_path)
    # another brand's order id answers 404, as a missing one
    assert client.get(ticket_url, headers=brand_b.h()).status_code == 404
    assert client.get("/api/v1/manufacturing/bundles/ord_nope/ticket", headers=brand_a.h()).status_code == 404


def test_without_a_pattern_names_stay_as_they_were(client, brand_a, cat_a):
    s1 = snapshot(client, brand_a, cat_a["DEMO-PENDANT"], PENDANT)
    publish("order.paid", paid_payload(brand_a, "ord_plain", [("oi_p1", s1, 1)]))
    run_jobs()
    _release(client, brand_a, "ord_plain")
    got = client.get("/api/v1/manufacturing/bundles/ord_plain", headers=brand_a.h())
    bundle = unzip(fetch(client, got.json()["url"]).content)
    assert set(bundle) == {"manifest.json", "ticket.pdf", "items/oi_p1.zip"}
    assert set(unzip(bundle["items/oi_p1.zip"])) == {
        "manifest.json",
        "design.svg",
        "design.pdf",
        "design.png",
        "design.dxf",
    }
