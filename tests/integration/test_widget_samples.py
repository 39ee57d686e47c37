"""Issue 13 §2: a brand sets a zone's sample personalization; the widget config serves it."""

from __future__ import annotations

from tests.integration.demo import seed_catalog


def _zone(client, brand, product_id, key):
    r = client.get(f"/api/v1/products/{product_id}", headers=brand.h())
    return next(z for z in r.json()["zones"] if z["key"] == key)


def test_demo_products_ship_samples_served_in_the_widget_config(client, brand_a):
    cat = seed_catalog(brand_a)
    cfg = client.get(f"/api/v1/widget/config/{cat['DEMO-MUG']}", headers=brand_a.h("pk")).json()
    samples = {z["key"]: z["sample"] for z in cfg["zones"]}
    assert samples["name"]["text"] == "Grandma"
    assert samples["photo"]["photo_url"] == "/widget/samples/sample-photo.jpg"
    assert all(f["url"] == f"/widget/fonts/{f['id']}" for f in cfg["fonts"])
    assert client.get(samples["photo"]["photo_url"]).headers["content-type"] == "image/jpeg"
    assert client.get(cfg["fonts"][0]["url"]).status_code == 200
    assert client.get("/widget/i18n/fr.json").json()["add_to_cart"] == "Ajouter au panier"
    assert client.get("/widget/i18n/xx.json").status_code == 404


def test_brand_sets_and_clears_a_sample_and_the_config_follows(client, brand_a):
    cat = seed_catalog(brand_a)
    pid = cat["DEMO-SIGN"]
    zone = _zone(client, brand_a, pid, "title")
    url = f"/api/v1/products/{pid}/zones/{zone['id']}"
    r = client.patch(url, json={"sample": {"text": "Chez Nous"}}, headers=brand_a.h())
    assert r.status_code == 200, r.text
    assert r.json()["sample"] == {"text": "Chez Nous", "photo_url": None}
    cfg = client.get(f"/api/v1/widget/config/{pid}", headers=brand_a.h("pk")).json()
    assert cfg["zones"][0]["sample"]["text"] == "Chez Nous"
    bad = client.patch(url, json={"sample": {"photo_url": "javascript:alert(1)"}}, headers=brand_a.h())
    assert bad.status_code == 422
    assert client.patch(url, json={"sample": None}, headers=brand_a.h()).status_code == 200
    cfg = client.get(f"/api/v1/widget/config/{pid}", headers=brand_a.h("pk")).json()
    assert cfg["zones"][0]["sample"] is None
