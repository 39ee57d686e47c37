"""Emoji on an engraved product are refused over HTTP (issue 16, item 8): validate says why,
specs and snapshots answer 422 instead of accepting them with a fallback-font warning."""

from __future__ import annotations

INPUTS = {"arc_text": {"text": "Léa ❤️", "font": "fnt_serif"}, "initial": {"text": "L"}}


def test_emoji_on_the_pendant_is_refused_at_validate_spec_and_snapshot(client, brand_a, cat_a):
    pid = cat_a["DEMO-PENDANT"]
    v = client.post(
        "/api/v1/personalization/validate",
        json={"product_id": pid, "inputs": INPUTS},
        headers=brand_a.h("pk"),
    )
    assert v.status_code == 200, v.text
    body = v.json()
    assert body["valid"] is False
    assert [(x["zone"], x["code"]) for x in body["violations"]] == [("arc_text", "emoji_not_engravable")]
    assert "engraved" in body["violations"][0]["message"]
    assert not [w for w in body["warnings"] if w["code"] == "font_fallback"]

    spec = client.post("/api/v1/specs", json={"product_id": pid, "inputs": INPUTS}, headers=brand_a.h())
    assert spec.status_code == 422 and spec.json()["code"] == "design_invalid", spec.text
    assert {x["code"] for x in spec.json()["violations"]} == {"emoji_not_engravable"}

    shopper = brand_a.h("pk", **{"X-Shopper-Token": "shopper-token-emoji"})
    snap = client.post(
        "/api/v1/snapshots",
        json={"product_id": pid, "inputs": INPUTS, "provenance": {"source": "widget", "session_id": "s1"}},
        headers=shopper,
    )
    assert snap.status_code == 422, snap.text
    assert {x["code"] for x in snap.json()["violations"]} == {"emoji_not_engravable"}
