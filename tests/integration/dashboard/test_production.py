"""Dashboard production: queue filters, print-check override, pack and bundle downloads, bulk
actions reported per row, bulk CSV upload (per-line errors, job progress), isolation and roles."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any
from urllib.parse import urlsplit

from tests.integration.factories.manufacturing import PENDANT, paid_payload, publish, run_jobs, snapshot
from tests.integration.test_manufacturing import _hairline_product

from .helpers import post, sign_in
from .orders_helpers import count_queries, member

WO = "/api/v1/manufacturing/work-orders"


def _work_orders(client: Any, brand: Any, n: int, product_id: str, order: str = "ord_q") -> list[str]:
    sid = snapshot(client, brand, product_id, PENDANT)
    items = [(f"oi_{order}_{i}", sid, 1) for i in range(n)]
    publish("order.paid", paid_payload(brand, order, items))
    run_jobs()
    r = client.get(WO, params={"order_id": order, "limit": 200}, headers=brand.h())
    return [w["id"] for w in r.json()["data"]]


def _ids(html: str) -> set[str]:
    return set(re.findall(r'<a href="/dashboard/production/(wo_[a-z0-9]+)">', html))


def _fetch(client: Any, url: str) -> bytes:
    parts = urlsplit(url)
    r = client.get(f"{parts.path}?{parts.query}")
    assert r.status_code == 200, r.text[:300]
    return bytes(r.content)


def test_queue_filters_by_status_product_and_method(client: Any, brand_a: Any, cat_a: dict) -> None:
    pendant = _work_orders(client, brand_a, 2, cat_a["DEMO-PENDANT"])
    hair = _hairline_product(client, brand_a)
    sid = snapshot(client, brand_a, hair, {"name": {"text": "Hairline"}})
    blocked = client.post(WO, json={"snapshot_id": sid, "order_id": "ord_h"}, headers=brand_a.h()).json()[
        "id"
    ]
    run_jobs()
    sign_in(client, brand_a.owner_email)
    r = client.get("/dashboard/production")
    assert r.status_code == 200 and _ids(r.text) == {*pendant, blocked}
    assert "findings, blocking" in r.text
    assert _ids(client.get("/dashboard/production?status=needs_review").text) == {blocked}
    assert _ids(client.get("/dashboard/production?status=ready&status=done").text) == set(pendant)
    assert _ids(client.get(f"/dashboard/production?product_id={hair}").text) == {blocked}
    assert _ids(
        client.get(f"/dashboard/production?method=engrave&product_id={cat_a['DEMO-PENDANT']}").text
    ) == set(pendant)
    assert client.get("/dashboard/production?status=lost").status_code == 422


def test_query_count_of_the_queue_does_not_grow_with_30_rows(client: Any, brand_a: Any, cat_a: dict) -> None:
    _work_orders(client, brand_a, 2, cat_a["DEMO-PENDANT"], "ord_small")
    sign_in(client, brand_a.owner_email)
    client.get("/dashboard/production")
    with count_queries() as few:
        assert client.get("/dashboard/production").status_code == 200
    _work_orders(client, brand_a, 28, cat_a["DEMO-PENDANT"], "ord_big")
    with count_queries() as many:
        r = client.get("/dashboard/production")
    assert len(_ids(r.text)) == 30 and len(many) == len(few), (len(few), len(many))


def test_override_needs_the_permission_and_releases_the_work_order(client: Any, brand_a: Any) -> None:
    hair = _hairline_product(client, brand_a)
    sid = snapshot(client, brand_a, hair, {"name": {"text": "Hairline"}})
    wid = client.post(WO, json={"snapshot_id": sid, "order_id": "ord_h"}, headers=brand_a.h()).json()["id"]
    run_jobs()
    csrf = sign_in(client, member(brand_a, "viewer"))
    page = client.get(f"/dashboard/production/{wid}")
    assert page.status_code == 200 and "stroke_too_thin" in page.text and "/override" not in page.text
    assert 'class="help-link"' in page.text
    assert post(client, f"/dashboard/production/{wid}/override", csrf, {"confirm": "yes"}).status_code == 403
    client.cookies.clear()
    csrf = sign_in(client, member(brand_a, "production"))
    assert "/override" in client.get(f"/dashboard/production/{wid}").text
    r = post(client, f"/dashboard/production/{wid}/override", csrf, {"note": "ok"})
    assert r.status_code == 422 and "Tick the box" in r.text
    r = post(
        client, f"/dashboard/production/{wid}/override", csrf, {"note": "customer accepts", "confirm": "yes"}
    )
    assert r.status_code == 303
    wo = client.get(f"{WO}/{wid}", headers=brand_a.h()).json()
    assert wo["status"] == "ready" and wo["history"][-1]["note"] == "customer accepts"
    again = post(client, f"/dashboard/production/{wid}/override", csrf, {"confirm": "yes"})
    assert again.status_code == 409 and "Only a work order in needs_review" in again.text


def test_pack_and_bundle_downloads_are_signed_zips_with_the_spec_hash(
    client: Any, brand_a: Any, cat_a: dict
) -> None:
    wid = _work_orders(client, brand_a, 1, cat_a["DEMO-PENDANT"], "ord_dl")[0]
    sign_in(client, member(brand_a, "production"))
    r = client.get(f"/dashboard/production/{wid}/pack", follow_redirects=False)
    assert r.status_code == 303
    data = _fetch(client, r.headers["location"])
    spec_hash = client.get(f"{WO}/{wid}", headers=brand_a.h()).json()["spec_hash"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert spec_hash in json.dumps(manifest)
    r = client.get("/dashboard/production/orders/ord_dl/bundle", follow_redirects=False)
    assert r.status_code == 303 and zipfile.is_zipfile(io.BytesIO(_fetch(client, r.headers["location"])))


def test_bulk_move_reports_the_row_that_cannot_move(client: Any, brand_a: Any, cat_a: dict) -> None:
    ready = _work_orders(client, brand_a, 2, cat_a["DEMO-PENDANT"], "ord_bulk")
    csrf = sign_in(client, brand_a.owner_email)
    assert (
        post(client, "/dashboard/production/bulk", csrf, {"action": "done", "ids": ready[:1]}).status_code
        == 422
    )
    assert post(client, "/dashboard/production/bulk", csrf, {"action": "done"}).status_code == 422
    r = post(
        client, "/dashboard/production/bulk", csrf, {"action": "in_production", "ids": [*ready, "wo_missing"]}
    )
    assert r.status_code == 200 and "2 done, 1 not done" in r.text and "wo_missing" in r.text
    r = post(client, "/dashboard/production/bulk", csrf, {"action": "done", "ids": ready})
    assert r.status_code == 200
    statuses = {client.get(f"{WO}/{w}", headers=brand_a.h()).json()["status"] for w in ready}
    assert statuses == {"done"}
    again = post(client, "/dashboard/production/bulk", csrf, {"action": "done", "ids": ready[:1]})
    assert again.status_code == 422 and "cannot go from done to done" in again.text
    r = post(client, "/dashboard/production/bulk", csrf, {"action": "export", "ids": ready})
    url = re.search(r'href="([^"]+)" download>', r.text)
    assert r.status_code == 200 and url
    with zipfile.ZipFile(io.BytesIO(_fetch(client, url.group(1).replace("&amp;", "&")))) as zf:
        assert sorted(n for n in zf.namelist() if n.startswith("items/")) == sorted(
            f"items/{w}.zip" for w in ready
        )


def test_bulk_csv_upload_reports_bad_lines_and_runs_the_good_ones(
    client: Any, brand_a: Any, cat_a: dict
) -> None:
    csrf = sign_in(client, brand_a.owner_email)
    assert client.get("/dashboard/production/bulk-upload").status_code == 200
    text = "arc_text,initial\nEmma,E\n" + "x" * 200 + ",Q\nLou,L,extra\nJade,J\n"
    r = client.post(
        "/dashboard/production/bulk-upload",
        data={"csrf": csrf, "product_id": cat_a["DEMO-PENDANT"]},
        files={"file": ("names.csv", text.encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text[:500]
    assert "4 lines read, 2 with errors." in r.text and "too_many_cells" in r.text
    assert re.search(r"<th scope=\"row\">3</th><td>arc_text</td>", r.text)
    job = re.search(r'hx-get="/dashboard/production/bulk-upload/(job_[a-z0-9]+)"', r.text)
    assert job and 'role="progressbar"' in r.text
    assert run_jobs("bulk_personalization") == ["success"]
    done = client.get(f"/dashboard/production/bulk-upload/{job.group(1)}")
    assert done.status_code == 200 and "2 packs ready." in done.text and 'aria-valuenow="100"' in done.text
    assert "hx-get" not in done.text
    url = re.search(r'href="([^"]+)" download>', done.text)
    with zipfile.ZipFile(io.BytesIO(_fetch(client, url.group(1).replace("&amp;", "&")))) as zf:
        assert len([n for n in zf.namelist() if n.startswith("items/")]) == 2
    bad = client.post(
        "/dashboard/production/bulk-upload",
        data={"csrf": csrf, "product_id": cat_a["DEMO-PENDANT"]},
        files={"file": ("bad.csv", b"arc_text,initial\n" + b"y" * 300 + b",Z\nzz,Y,extra\n", "text/csv")},
    )
    assert (
        bad.status_code == 422
        and "bulk-upload/job_" not in bad.text
        and "2 lines read, 2 with errors." in bad.text
    )
    empty = client.post("/dashboard/production/bulk-upload", data={"csrf": csrf, "product_id": ""})
    assert empty.status_code == 422 and "Choose a product." in empty.text


def test_another_brands_ids_are_404_on_every_route(
    client: Any, brand_a: Any, brand_b: Any, cat_a: dict
) -> None:
    wid = _work_orders(client, brand_a, 1, cat_a["DEMO-PENDANT"], "ord_iso")[0]
    csrf = sign_in(client, brand_a.owner_email)
    r = client.post(
        "/dashboard/production/bulk-upload",
        data={"csrf": csrf, "product_id": cat_a["DEMO-PENDANT"]},
        files={"file": ("n.csv", b"arc_text,initial\nEmma,E\n", "text/csv")},
    )
    job = re.search(r"bulk-upload/(job_[a-z0-9]+)", r.text).group(1)
    client.cookies.clear()
    csrf = sign_in(client, brand_b.owner_email)
    assert client.get(f"/dashboard/production/{wid}").status_code == 404
    assert client.get(f"/dashboard/production/{wid}/pack", follow_redirects=False).status_code == 404
    assert (
        client.get("/dashboard/production/orders/ord_iso/bundle", follow_redirects=False).status_code == 404
    )
    assert post(client, f"/dashboard/production/{wid}/override", csrf, {"confirm": "yes"}).status_code == 404
    assert client.get(f"/dashboard/production/bulk-upload/{job}").status_code == 404
    r = post(client, "/dashboard/production/bulk", csrf, {"action": "in_production", "ids": [wid]})
    assert r.status_code == 422 and "not found" in r.text
    r = post(client, "/dashboard/production/bulk", csrf, {"action": "export", "ids": [wid]})
    assert r.status_code == 422 and "No such work order." in r.text
    bad = client.post(
        "/dashboard/production/bulk-upload",
        data={"csrf": csrf, "product_id": cat_a["DEMO-PENDANT"]},
        files={"file": ("n.csv", b"arc_text,initial\nEmma,E\n", "text/csv")},
    )
    assert bad.status_code == 404
    assert wid not in client.get("/dashboard/production").text
    assert client.get(f"{WO}/{wid}", headers=brand_a.h()).json()["status"] == "ready"


def test_viewer_cannot_act_and_production_role_cannot_refund(client: Any, brand_a: Any, cat_a: dict) -> None:
    wid = _work_orders(client, brand_a, 1, cat_a["DEMO-PENDANT"], "ord_role")[0]
    csrf = sign_in(client, member(brand_a, "viewer"))
    queue = client.get("/dashboard/production")
    assert queue.status_code == 200 and 'name="ids"' not in queue.text and "bulk-upload" not in queue.text
    assert (
        post(client, "/dashboard/production/bulk", csrf, {"action": "done", "ids": [wid]}).status_code == 403
    )
    assert client.get("/dashboard/production/bulk-upload").status_code == 403
    client.cookies.clear()
    sign_in(client, member(brand_a, "production"))
    assert client.get("/dashboard/production").status_code == 200
