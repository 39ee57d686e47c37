"""SVG writer: mm units, bleed viewBox, outlined text, embedded clipped images, determinism."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

from luneo.design.scene_builder import build_scene
from luneo.design.writers.svg import write_svg

from .scene_fixtures import MemoryResources, three_zone_spec

NS = {"svg": "http://www.w3.org/2000/svg", "xlink": "http://www.w3.org/1999/xlink"}


def _scene(**kw: object):  # type: ignore[no-untyped-def]
    res = MemoryResources()
    return build_scene(three_zone_spec(res, **kw), "f00d", res)  # type: ignore[arg-type]


def test_svg_is_deterministic_and_sized_in_mm() -> None:
    scene = _scene(fit="smart")
    a, b = write_svg(scene), write_svg(scene)
    assert a == b
    root = ET.fromstring(a)
    assert root.get("width") == "100mm" and root.get("height") == "60mm"
    assert root.get("viewBox") == "0 0 100 60"
    assert b"<text" not in a and b"font-family" not in a
    assert not re.search(rb"\d\.\d{4,}", a.split(b"base64,")[0])  # fixed precision (3 decimals)


def test_bleed_extends_viewbox() -> None:
    root = ET.fromstring(write_svg(_scene(bleed_mm=3)))
    assert root.get("viewBox") == "-3 -3 106 66"
    assert root.get("width") == "106mm" and root.get("height") == "66mm"


def test_ids_come_from_zone_keys_and_image_is_clipped_data_uri() -> None:
    root = ET.fromstring(write_svg(_scene()))
    band = root.find("svg:path[@id='zone-band']", NS)
    assert band is not None and band.get("fill") == "#3366cc"
    image = root.find("svg:image[@id='zone-photo']", NS)
    assert image is not None
    assert image.get("clip-path") == "url(#clip-photo)"
    assert root.find("svg:defs/svg:clipPath[@id='clip-photo']/svg:path", NS) is not None
    href = image.get(f"{{{NS['xlink']}}}href") or ""
    assert href.startswith("data:image/png;base64,")
    assert base64.b64decode(href.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_guides_background_and_transparency_options() -> None:
    scene = _scene()
    plain = ET.fromstring(write_svg(scene))
    assert plain.find("svg:g[@id='guides']", NS) is None
    assert plain.find("svg:rect[@id='canvas']", NS) is None
    guided = ET.fromstring(write_svg(scene, include_guides=True, transparent=False))
    guides = guided.find("svg:g[@id='guides']", NS)
    assert guides is not None
    assert {p.get("id") for p in guides} >= {"guide-outline", "guide-safe-photo", "guide-safe-name"}
    assert guided.find("svg:rect[@id='canvas']", NS) is not None


def test_text_is_one_path_of_outlines() -> None:
    root = ET.fromstring(write_svg(_scene(text="Hi there")))
    paths = root.findall("svg:path[@id='zone-name']", NS)
    assert len(paths) == 1
    assert paths[0].get("fill") == "#112233" and paths[0].get("aria-label") == "Hi there"
    assert (paths[0].get("d") or "").count("M") >= 6  # one contour or more per visible glyph
