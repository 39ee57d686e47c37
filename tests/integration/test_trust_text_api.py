"""Issue 11 (items 12–14) over HTTP: bounded validation on the public routes, a small JSON body
cap for publishable keys, and the brand's own blocked / allowed word lists."""

from __future__ import annotations

from typing import Any

from tests.integration.demo import seed_catalog

VALIDATE = "/api/v1/personalization/validate"


def _codes(body: dict[str, Any]) -> list[str]:
    return [v["code"] for v in body["violations"]]


def _set_brand_settings(brand_id: str, **values: Any) -> None:
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy.models import Brand

    with get_db().transaction() as s:
        bind_system(s)
        brand = s.get(Brand, brand_id)
        assert brand is not None
        brand.settings = {**(brand.settings or {}), **values}


def test_publishable_key_body_over_the_public_cap_is_413(client, brand_a, cat_a):
    from luneo.designs.api import PUBLIC_JSON_BODY_BYTES

    body = {
        "product_id": cat_a["DEMO-PENDANT"],
        "inputs": {"initial": {"text": "E"}, "arc_text": {"text": "x" * PUBLIC_JSON_BODY_BYTES}},
    }
    r = client.post(VALIDATE, json=body, headers=brand_a.h("pk"))
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "payload_too_large"
    for path in ("/api/v1/specs", "/api/v1/snapshots", "/api/v1/personalization/normalize"):
        assert client.post(path, json=body, headers=brand_a.h("pk")).status_code == 413, path
    # Servers (sk_) keep the general JSON limit and get a violation, not a 413.
    r = client.post(VALIDATE, json=body, headers=brand_a.h("sk"))
    assert r.status_code == 200, r.text
    assert _codes(r.json()) == ["text_too_large"]


def test_a_huge_text_is_refused_before_any_shaping(client, brand_a, cat_a, monkeypatch):
    import luneo.design.rules as rules

    calls: list[tuple[str, int]] = []  # (step, length of the text it was given)
    for name in ("auto_fit", "layout_text", "chars_report"):
        real = getattr(rules, name)

        def spy(*a: Any, _n: str = name, _r: Any = real, **k: Any) -> Any:
            calls.append((_n, len(a[0])))
            return _r(*a, **k)

        monkeypatch.setattr(rules, name, spy)
    text = "Emma " * 180_000  # 900 KB, under the 1 MiB JSON limit of secret keys
    r = client.post(
        VALIDATE,
        json={
            "product_id": cat_a["DEMO-PENDANT"],
            "inputs": {"initial": {"text": "E"}, "arc_text": {"text": text}},
        },
        headers=brand_a.h("sk"),
    )
    assert r.status_code == 200, r.text
    assert _codes(r.json()) == ["text_too_large"]
    assert r.json()["violations"][0]["params"]["max_bytes"] == 4096
    assert calls and all(n < 100 for _, n in calls), calls[:3]  # only the 1-letter initial was shaped
    ok = client.post(
        VALIDATE,
        json={
            "product_id": cat_a["DEMO-PENDANT"],
            "inputs": {"initial": {"text": "E"}, "arc_text": {"text": "Emma"}},
        },
        headers=brand_a.h("pk"),
    )
    assert ok.status_code == 200 and ok.json()["valid"] is True, ok.text
    assert ("auto_fit", 4) in calls


def test_brand_word_lists_from_settings(client, brand_a, brand_b, cat_a):
    pid = cat_a["DEMO-PENDANT"]

    def check(text: str, brand: Any = brand_a) -> list[str]:
        r = client.post(
            VALIDATE,
            json={"product_id": pid, "inputs": {"initial": {"text": "E"}, "arc_text": {"text": text}}},
            headers=brand.h("pk"),
        )
        assert r.status_code == 200, r.text
        return _codes(r.json())

    # Names that merely contain a blocked word pass; look-alike letters don't hide one.
    assert check("Ivana Zimmer") == [] and check("Nazir") == [] and check("Thomas Hitt") == []
    assert check("n\u0430zi") == ["blocked_word"]
    assert check("Kevin") == []
    _set_brand_settings(brand_a.id, blocked_words=["kevin", "merde*"], allowed_words=["Merdeka"])
    assert check("Kevin") == ["blocked_word"]
    assert check("Merdeka") == []
    assert check("Merdeux") == ["blocked_word"]
    r = client.post(
        "/api/v1/specs",
        json={"product_id": pid, "inputs": {"initial": {"text": "E"}, "arc_text": {"text": "KEVIN"}}},
        headers=brand_a.h("sk"),
    )
    assert r.status_code == 422 and r.json()["code"] == "design_invalid", r.text
    # Another brand's list never applies.
    cat_b = seed_catalog(brand_b)
    r = client.post(
        VALIDATE,
        json={
            "product_id": cat_b["DEMO-PENDANT"],
            "inputs": {"initial": {"text": "E"}, "arc_text": {"text": "Kevin"}},
        },
        headers=brand_b.h("pk"),
    )
    assert r.status_code == 200 and r.json()["valid"] is True, r.text


def test_replacement_character_is_refused_over_http(client, brand_a, cat_a):
    r = client.post(
        VALIDATE,
        json={
            "product_id": cat_a["DEMO-PENDANT"],
            "inputs": {"initial": {"text": "E"}, "arc_text": {"text": "Emma \ufffd"}},
        },
        headers=brand_a.h("pk"),
    )
    assert r.status_code == 200, r.text
    assert _codes(r.json()) == ["chars_not_in_font"]
