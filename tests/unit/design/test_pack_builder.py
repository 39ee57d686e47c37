"""One production-pack builder: `luneo render --formats pack` (rendering pipeline), the API's
export job and the bulk exports (`manufacturing.export.export_spec`) write the same files, and
every manifest entry (bytes, sha256, size in mm) is measured on the file actually written.
Also the brand file-name patterns (`{order}`, `{item}`, `{sku}`, ...)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

import pytest
from PIL import Image

from luneo.design.model import DesignSpec, ProductDef, TextInput, ZoneDef, ZoneGeometry
from luneo.design.pack import (
    NameContext,
    PatternError,
    bundle_item_names,
    check_pattern,
    pack_file_names,
)
from luneo.manufacturing.export import PackOptions, export_spec
from luneo.rendering import pipeline
from tests.unit.design.scene_fixtures import MemoryResources

HASH = "ab" * 32
MM_PER_PT = 25.4 / 72


def _spec(method: str, mode: str) -> DesignSpec:
    product = ProductDef(
        id="prd_t",
        sku="CARD-1",
        name="Card",
        width_mm=85,
        height_mm=55,
        production_method=method,
        color_mode=mode,  # type: ignore[arg-type]
        output_dpi=150,
        bleed_mm=3 if method == "print" else 0,
        crop_marks=method == "print",
        zones=[
            ZoneDef(key="name", kind="text", geometry=ZoneGeometry(x_mm=5, y_mm=5, width_mm=75, height_mm=45))
        ],
    )
    return DesignSpec(
        product=product, inputs={"name": TextInput(text="Zoé Ada", font="fnt_sans", size_pt=20)}
    )


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _cli_pack(spec: DesignSpec) -> dict[str, bytes]:
    out = pipeline.render_spec(spec, HASH, MemoryResources(), ["pack"])
    return _unzip(out.files["pack"].data)


def _api_pack(spec: DesignSpec) -> dict[str, bytes]:
    res = export_spec(spec.model_dump(mode="json"), HASH, MemoryResources(), PackOptions())
    return _unzip(res.data)


CASES = [("print", "cmyk"), ("print", "rgb"), ("engrave", "rgb")]


@pytest.mark.parametrize(("method", "mode"), CASES)
def test_cli_pack_and_api_pack_hold_the_same_files_byte_for_byte(method: str, mode: str) -> None:
    spec = _spec(method, mode)
    cli, api = _cli_pack(spec), _api_pack(spec)
    assert sorted(cli) == sorted(api)
    for name in api:
        if name != "manifest.json":
            assert cli[name] == api[name], name
    # the manifests list the same files with the same facts (only the caller's meta may differ)
    assert json.loads(cli["manifest.json"])["files"] == json.loads(api["manifest.json"])["files"]


def _pdf_size_mm(pdf: bytes) -> tuple[float, float]:
    m = re.search(rb"/MediaBox \[\s*([-\d. ]+)\]", pdf)
    assert m
    x0, y0, x1, y1 = (float(v) for v in m.group(1).split())
    return (x1 - x0) * MM_PER_PT, (y1 - y0) * MM_PER_PT


@pytest.mark.parametrize("maker", [_cli_pack, _api_pack], ids=["cli", "api"])
@pytest.mark.parametrize(("method", "mode"), CASES)
def test_every_manifest_entry_is_measured_on_the_written_file(maker, method: str, mode: str) -> None:
    files = maker(_spec(method, mode))
    manifest = json.loads(files["manifest.json"])
    assert {f["name"] for f in manifest["files"]} == set(files) - {"manifest.json"}
    for entry in manifest["files"]:
        data = files[entry["name"]]
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
        if entry["media_type"] == "application/pdf":
            w, h = _pdf_size_mm(data)
            assert entry["width_mm"] == pytest.approx(w, abs=0.01) and entry["height_mm"] == pytest.approx(
                h, abs=0.01
            ), entry["name"]
        elif entry["media_type"] in ("image/png", "image/tiff"):
            with Image.open(io.BytesIO(data)) as im:
                assert entry["dpi"] == round(im.info["dpi"][0])
                assert entry["width_mm"] == pytest.approx(im.width / entry["dpi"] * 25.4, abs=0.2)
                assert entry["height_mm"] == pytest.approx(im.height / entry["dpi"] * 25.4, abs=0.2)
        elif entry["name"].endswith(".svg"):
            m = re.search(rb'width="([\d.]+)mm" height="([\d.]+)mm"', data)
            assert m and entry["width_mm"] == pytest.approx(float(m.group(1)), abs=0.01)
    if method == "print":  # bleed + crop marks: the PDF page is larger than the trimmed product
        pdf = next(f for f in manifest["files"] if f["name"] == "design.pdf")
        assert pdf["width_mm"] > 85 + 6


# --------------------------------------------------------------------------- naming


CTX = NameContext(order="1042", item=2, sku="MUG/11oz", text="Zoé & Léa!", qty=3, product="Mug blanc")
KINDS = ["svg", "pdf", "png", "dxf", "cmyk-pdf", "cmyk-tif"]


def test_default_names_are_todays_names() -> None:
    assert pack_file_names(None, CTX, KINDS) == [
        "design.svg",
        "design.pdf",
        "design.png",
        "design.dxf",
        "design-cmyk.pdf",
        "design-cmyk.tif",
    ]
    assert bundle_item_names(None, [CTX, CTX], ["itm_a", "itm_b"]) == ["itm_a", "itm_b"]


def test_pattern_tokens_are_filled_with_safe_characters_only() -> None:
    names = pack_file_names("{order}_{item}_{sku}_{text}_x{qty}_{product}", CTX, KINDS)
    assert names[0] == "1042_2_MUG-11oz_Zoe-Lea_x3_Mug-blanc.svg"
    assert names[4] == "1042_2_MUG-11oz_Zoe-Lea_x3_Mug-blanc-cmyk.pdf"
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", n) for n in names)
    assert len(set(names)) == len(names)
    with_format = pack_file_names("{order}-{format}", CTX, KINDS)
    assert with_format[:2] == ["1042-svg.svg", "1042-pdf.pdf"] and with_format[4] == "1042-cmyk-pdf.pdf"


def test_names_are_bounded_and_collision_free() -> None:
    long = NameContext(order="1", item=1, sku="S", text="x" * 500, qty=1, product="P")
    names = pack_file_names("{text}", long, KINDS)
    assert all(len(n) <= 120 for n in names) and len(set(names)) == len(names)
    # two items with the same values in one bundle get a suffix instead of overwriting each other
    same = bundle_item_names("{order}-{sku}", [CTX, CTX, CTX], ["a", "b", "c"])
    assert same == ["1042-MUG-11oz", "1042-MUG-11oz-2", "1042-MUG-11oz-3"]
    # nothing unsafe survives (path separators, dots at the start, empty names)
    empty = NameContext(order=None, item=1, sku="", text="", qty=1, product="../..")
    for n in pack_file_names("{text}{product}", empty, KINDS):
        assert not n.startswith(".") and "/" not in n and ".." not in n


@pytest.mark.parametrize(
    ("pattern", "bad"),
    [
        ("{order}-{nom}", "{nom}"),
        ("{order", "{order"),
        ("a/b-{item}", "/"),
        ("", ""),
        ("x" * 201, ""),
        ("{order} {item}", " "),
    ],
)
def test_invalid_patterns_are_refused_naming_the_bad_token(pattern: str, bad: str) -> None:
    with pytest.raises(PatternError) as exc:
        check_pattern(pattern)
    assert bad in str(exc.value)
    assert exc.value.token == bad or not bad


def test_the_pattern_names_the_production_pack_files() -> None:
    spec = _spec("print", "cmyk")
    res = export_spec(
        spec.model_dump(mode="json"),
        HASH,
        MemoryResources(),
        PackOptions(quantity=2, order_number="1042", item_index=1, name_pattern="{order}-{item}-{sku}"),
    )
    names = sorted(_unzip(res.data))
    assert names == [
        "1042-1-CARD-1-cmyk.pdf",
        "1042-1-CARD-1-cmyk.tif",
        "1042-1-CARD-1.pdf",
        "1042-1-CARD-1.png",
        "1042-1-CARD-1.svg",
        "manifest.json",
    ]
    default = export_spec(spec.model_dump(mode="json"), HASH, MemoryResources(), PackOptions(quantity=2))
    assert "design.pdf" in _unzip(default.data)
    # the default options hash is unchanged by the new (unset) fields: existing packs stay cached
    assert "name_pattern" not in PackOptions().as_dict() and "item_index" not in PackOptions().as_dict()
