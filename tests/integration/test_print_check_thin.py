"""The thin-stroke print check on real work orders (issue 16, item 7): a script name on the demo
pendant (0.1 mm minimum) is refused with the share of its stroke under the minimum and a
marked-up image in the pack; the operator override still releases it; a zone that says `warn`
lets it through with a warning."""

from __future__ import annotations

import re

from tests.integration.factories.manufacturing import fetch, run_jobs, snapshot, unzip

WO = "/api/v1/manufacturing/work-orders"
MESSAGE = re.compile(
    r"^\d+ % of the engraving is thinner than 0\.1 mm: use a bolder font or a larger size\.$"
)


def _wo(client, brand, wo_id):
    r = client.get(f"{WO}/{wo_id}", headers=brand.h())
    assert r.status_code == 200, r.text
    return r.json()


def _work_order(client, brand, sid: str, order: str) -> str:
    r = client.post(
        WO, json={"snapshot_id": sid, "order_id": order, "order_number": order}, headers=brand.h()
    )
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])


def _thin(wo):
    return [i for i in wo["print_checks"] if i["code"] == "stroke_too_thin"]


def test_script_name_on_the_pendant_stops_at_the_print_check(client, brand_a, cat_a):
    script = {"arc_text": {"text": "Juliette", "font": "fnt_script"}, "initial": {"text": "J"}}
    wid = _work_order(client, brand_a, snapshot(client, brand_a, cat_a["DEMO-PENDANT"], script), "ord_thin1")
    run_jobs()
    wo = _wo(client, brand_a, wid)
    assert wo["status"] == "needs_review" and wo["checks_blocked"] is True
    (finding,) = _thin(wo)
    assert finding["severity"] == "error" and finding["zone"] == "arc_text"
    assert MESSAGE.match(finding["message"]), finding["message"]
    params = finding["params"]
    assert 0.10 <= params["share_under"] <= 0.35 and params["policy"] == "refuse"
    assert params["markup"] == "print-check-thin.png"
    pack = client.get(f"{WO}/{wid}/pack", headers=brand_a.h())
    assert pack.status_code == 200, pack.text
    files = unzip(fetch(client, pack.json()["url"]).content)
    assert files["print-check-thin.png"].startswith(b"\x89PNG")
    # the override that exists still releases it
    ok = client.post(f"{WO}/{wid}/override-checks", json={"note": "customer accepts"}, headers=brand_a.h())
    assert ok.status_code == 200 and ok.json()["status"] == "ready", ok.text

    serif = {"arc_text": {"text": "Juliette", "font": "fnt_serif"}, "initial": {"text": "J"}}
    wid = _work_order(client, brand_a, snapshot(client, brand_a, cat_a["DEMO-PENDANT"], serif), "ord_thin2")
    run_jobs()
    wo = _wo(client, brand_a, wid)
    assert wo["status"] == "ready" and _thin(wo) == []


def test_zone_rule_warn_lets_it_through_with_a_warning(client, brand_a):
    body = {
        "sku": "SCRIPT-TAG",
        "name": "Script tag",
        "status": "active",
        "width_mm": 30,
        "height_mm": 12,
        "production_method": "engrave",
        "min_stroke_mm": 0.1,
        "zones": [
            {
                "key": "name",
                "kind": "text",
                "role": "engrave",
                "default_font": "fnt_script",
                "geometry": {"shape": "rect", "x_mm": 1, "y_mm": 1, "width_mm": 28, "height_mm": 10},
                "rules": {"allowed_fonts": ["fnt_script"], "max_font_pt": 11, "thin_stroke": "warn"},
            }
        ],
    }
    r = client.post("/api/v1/products", json=body, headers=brand_a.h())
    assert r.status_code == 201, r.text
    assert r.json()["zones"][0]["rules"]["thin_stroke"] == "warn"
    sid = snapshot(client, brand_a, r.json()["id"], {"name": {"text": "Juliette"}})
    wid = _work_order(client, brand_a, sid, "ord_thin3")
    run_jobs()
    wo = _wo(client, brand_a, wid)
    (finding,) = _thin(wo)
    assert finding["severity"] == "warning" and finding["params"]["policy"] == "warn"
    assert wo["status"] == "ready" and wo["checks_blocked"] is False
