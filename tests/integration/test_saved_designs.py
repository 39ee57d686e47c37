"""Issue 13 item 9: saved designs — save, "My designs" per shopper, reopen, share page, revoke."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.demo import pk

SHOPPER_A = "shopper-aaaa-saved-0123456789ab"
SHOPPER_B = "shopper-bbbb-saved-0123456789ab"


@pytest.fixture(autouse=True)
def fresh_storage(settings):
    from luneo.platform.storage import set_storage

    set_storage(None)
    yield
    set_storage(None)


def save(client, brand, token: str, product_id: str, name: str, text: str = "Emma") -> dict[str, Any]:
    inputs = {"arc_text": {"text": text, "font": "fnt_serif"}, "initial": {"text": text[0]}}
    r = client.post(
        "/api/v1/designs",
        json={"name": name, "source": "widget", "product_id": product_id, "inputs": inputs},
        headers=pk(brand, token),
    )
    assert r.status_code == 201, r.text
    return r.json()


def share(client, brand, token: str, design_id: str) -> str:
    r = client.post(f"/api/v1/designs/{design_id}/share", headers=pk(brand, token))
    assert r.status_code == 200, r.text
    url = r.json()["share_url"]
    assert url and "/d/" in url
    return url.rsplit("/d/", 1)[1]


def meta(html: str, prop: str) -> str:
    found = re.search(rf'<meta property="{re.escape(prop)}" content="([^"]*)"', html)
    assert found, f"no {prop} in page"
    return found.group(1)


def test_my_designs_lists_only_this_shoppers_designs_and_reopens_them(client, brand_a, brand_b, cat_a):
    pid = cat_a["DEMO-PENDANT"]
    mine = save(client, brand_a, SHOPPER_A, pid, "For Mum", "Emma")
    save(client, brand_a, SHOPPER_B, pid, "Other", "Lucas")
    listed = client.get("/api/v1/designs", headers=pk(brand_a, SHOPPER_A)).json()["data"]
    assert [d["id"] for d in listed] == [mine["id"]]
    # reopen: the saved inputs, as the rules engine resolved them, load back into the widget
    got = client.get(f"/api/v1/designs/{mine['id']}", headers=pk(brand_a, SHOPPER_A))
    assert got.status_code == 200, got.text
    inputs = got.json()["inputs"]
    assert inputs["arc_text"]["text"] == "Emma" and inputs["arc_text"]["font"] == "fnt_serif"
    assert inputs["arc_text"]["size_pt"] > 0
    # another shopper of the brand, and the other brand's widget, never see it
    assert client.get(f"/api/v1/designs/{mine['id']}", headers=pk(brand_a, SHOPPER_B)).status_code == 404
    assert client.get(f"/api/v1/designs/{mine['id']}", headers=pk(brand_b, SHOPPER_A)).status_code == 404
    assert client.get("/api/v1/designs", headers=pk(brand_b, SHOPPER_A)).json()["data"] == []
    assert (
        client.post(f"/api/v1/designs/{mine['id']}/share", headers=pk(brand_a, SHOPPER_B)).status_code == 404
    )
    assert (
        client.delete(f"/api/v1/designs/{mine['id']}/share", headers=pk(brand_b, SHOPPER_A)).status_code
        == 404
    )
    # the brand sees every design of its own brand
    assert len(client.get("/api/v1/designs", headers=brand_a.h("sk")).json()["data"]) == 2


def test_share_page_is_a_human_page_with_open_graph_tags(client, brand_a, cat_a, settings):
    pid = cat_a["DEMO-PENDANT"]
    design = save(client, brand_a, SHOPPER_A, pid, "Emma's pendant <3", "Emma")
    token = share(client, brand_a, SHOPPER_A, design["id"])
    assert len(token) >= 32  # 192 random bits
    r = client.get(f"/d/{token}", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="en">' in html
    assert "Emma&#39;s pendant &lt;3" in html and "<3" not in html.replace("&lt;3", "")  # escaped
    assert "Engraved round pendant" in html  # product name
    assert ">Emma<" in html  # the text as it will be made
    base = settings.public_base_url.rstrip("/")
    image = meta(html, "og:image")
    assert image == f"{base}/d/{token}/image.png" and image.startswith("http")
    assert "Emma" in meta(html, "og:title") and "Emma" in meta(html, "og:description")
    assert re.search(r'<img src="[^"]+/image.png" alt="[^"]+"', html)  # the image has a text alternative
    img = client.get(f"/d/{token}/image.png")
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    assert img.content.startswith(b"\x89PNG")
    # no raw JSON, no credential needed, no shopper token anywhere
    assert SHOPPER_A not in html and not html.lstrip().startswith("{")


def test_share_page_speaks_french(client, brand_a, cat_a):
    design = save(client, brand_a, SHOPPER_A, cat_a["DEMO-PENDANT"], "Pour Zoé", "Zoe")
    token = share(client, brand_a, SHOPPER_A, design["id"])
    fr = client.get(f"/d/{token}", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert fr.status_code == 200 and '<html lang="fr">' in fr.text
    assert "Personnalisation" in fr.text and fr.headers["content-language"] == "fr"
    assert meta(fr.text, "og:locale") == "fr_FR"
    en = client.get(f"/d/{token}?lang=en", headers={"Accept-Language": "fr"})
    assert '<html lang="en">' in en.text and "Personalization" in en.text


def test_unknown_and_revoked_share_links_are_404_pages(client, brand_a, cat_a):
    for token in ("x" * 32, "not-a-token", "a" * 200):
        r = client.get(f"/d/{token}")
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert "Design not found" in r.text
        assert client.get(f"/d/{token}/image.png").status_code == 404
    design = save(client, brand_a, SHOPPER_A, cat_a["DEMO-PENDANT"], "Gift", "Lina")
    token = share(client, brand_a, SHOPPER_A, design["id"])
    assert client.get(f"/d/{token}").status_code == 200
    # another shopper cannot revoke it; its owner can
    assert (
        client.delete(f"/api/v1/designs/{design['id']}/share", headers=pk(brand_a, SHOPPER_B)).status_code
        == 404
    )
    r = client.delete(f"/api/v1/designs/{design['id']}/share", headers=pk(brand_a, SHOPPER_A))
    assert r.status_code == 200 and r.json()["share_url"] is None
    assert client.get(f"/d/{token}").status_code == 404
    assert client.get(f"/d/{token}/image.png").status_code == 404
    assert client.get(f"/api/v1/shared/designs/{token}").status_code == 404
    # sharing again makes a new, different token
    again = share(client, brand_a, SHOPPER_A, design["id"])
    assert again != token and client.get(f"/d/{again}").status_code == 200


def test_share_tokens_differ_per_design(client, brand_a, cat_a):
    pid = cat_a["DEMO-PENDANT"]
    tokens = {
        share(client, brand_a, SHOPPER_A, save(client, brand_a, SHOPPER_A, pid, f"d{i}")["id"])
        for i in range(3)
    }
    assert len(tokens) == 3


def test_share_image_of_a_photo_design(client, brand_a, cat_a, settings):
    """The share image is the design on the product (the mockup the widget shows): the shopper's
    photo, read within the design's own brand, wrapped round the mug and shaded by it."""
    import io

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (1600, 1000), "#cc3366").save(buf, "PNG")
    up = client.post(
        "/api/v1/widget/uploads",
        headers=pk(brand_a, SHOPPER_A),
        files={"file": ("me.png", buf.getvalue(), "image/png")},
    )
    assert up.status_code == 201, up.text
    r = client.post(
        "/api/v1/designs",
        json={
            "name": "Mug",
            "product_id": cat_a["DEMO-MUG"],
            "inputs": {"photo": {"asset_id": up.json()["asset_id"]}},
        },
        headers=pk(brand_a, SHOPPER_A),
    )
    assert r.status_code == 201, r.text
    token = share(client, brand_a, SHOPPER_A, r.json()["id"])
    page = client.get(f"/d/{token}")
    assert page.status_code == 200 and "Photo mug" in page.text
    img = client.get(f"/d/{token}/image.png")
    assert img.status_code == 200, img.text
    picture = Image.open(io.BytesIO(img.content)).convert("RGB")
    # The photo of the product at the mockup's aspect ratio, 1200 px wide, as og:image says.
    mockup = client.get(f"/api/v1/products/{cat_a['DEMO-MUG']}", headers=brand_a.h()).json()["mockup"]
    scale = 1200 / mockup["width_px"]
    assert picture.size == (1200, round(mockup["height_px"] * scale))
    assert meta(page.text, "og:image") == f"{settings.public_base_url.rstrip('/')}/d/{token}/image.png"
    assert (meta(page.text, "og:image:width"), meta(page.text, "og:image:height")) == tuple(
        str(v) for v in picture.size
    )
    rgb = np.asarray(picture).astype(int)
    assert rgb[2, 2].min() > 150  # the studio backdrop around the product
    # The pink photo lies on the mug's body, between its silhouette edges …
    pink = (rgb[..., 0] - rgb[..., 1] > 60) & (rgb[..., 2] - rgb[..., 1] > 10) & (rgb[..., 0] > 90)
    ys, xs = np.nonzero(pink)
    wrap = mockup["wrap"]
    assert len(xs) > 10_000
    assert xs.min() >= wrap["left_px"] * scale - 2 and xs.max() <= wrap["right_px"] * scale + 2
    # … wrapped round it: the print's top edge follows the rim's ellipse (a flat paste of the
    # photo would have a straight top edge) …
    tops = [int(ys[xs == x].min()) for x in range(int(xs.min()) + 2, int(xs.max()) - 1)]
    assert max(tops) - min(tops) > 10, tops
    # … and shaded by it: no pixel keeps the photo's flat #cc3366.
    on_mug = rgb[pink]
    assert (0xCC, 0x33, 0x66) not in {tuple(c) for c in on_mug}
    assert on_mug[:, 0].mean() < 0xCC - 5 and on_mug[:, 0].max() - on_mug[:, 0].min() > 8
