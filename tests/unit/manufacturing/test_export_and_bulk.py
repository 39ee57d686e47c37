"""Pure parts of manufacturing: pack options hashing, the status machine, CSV rows, pack files."""

from __future__ import annotations

import pytest

from luneo.design.model import DesignSpec, ProductDef, TextInput, ZoneDef, ZoneGeometry
from luneo.manufacturing.bulk import read_rows, slug
from luneo.manufacturing.export import PackOptions, export_spec
from luneo.manufacturing.service import EXPORTABLE, TRANSITIONS


class NoResources:
    def font_data(self, font_id: str, sha256: str | None) -> bytes | None:
        return None

    def image_bytes(self, sha256: str) -> bytes:
        raise LookupError(sha256)


def _product(method: str = "engrave", color_mode: str = "rgb") -> ProductDef:
    return ProductDef(
        id="prd_t",
        sku="TAG",
        width_mm=40,
        height_mm=20,
        production_method=method,
        color_mode=color_mode,  # type: ignore[arg-type]
        output_dpi=150,
        zones=[
            ZoneDef(key="name", kind="text", geometry=ZoneGeometry(x_mm=2, y_mm=2, width_mm=36, height_mm=16))
        ],
    )


def _spec(method: str = "engrave", color_mode: str = "rgb") -> dict:
    spec = DesignSpec(
        product=_product(method, color_mode),
        inputs={"name": TextInput(text="Ada", font="fnt_sans", size_pt=20)},
    )
    return spec.model_dump(mode="json")


def test_pack_options_digest_is_stable_and_sensitive():
    a = PackOptions(quantity=2, kerf_mm=0.1, order_id="o")
    assert a.digest() == PackOptions(quantity=2, kerf_mm=0.1, order_id="o").digest()
    assert a.digest() != PackOptions(quantity=3, kerf_mm=0.1, order_id="o").digest()
    assert a.digest() != PackOptions(quantity=2, kerf_mm=0.2, order_id="o").digest()
    with pytest.raises(ValueError):
        PackOptions(quantity=0)
    with pytest.raises(ValueError):
        PackOptions(kerf_mm=-1)


def test_status_machine_shape():
    assert TRANSITIONS["done"] == frozenset() and TRANSITIONS["cancelled"] == frozenset()
    assert "ready" not in TRANSITIONS["needs_review"]  # only override-checks releases it
    assert all("cancelled" in TRANSITIONS[s] for s in TRANSITIONS if s not in ("done", "cancelled"))
    assert {"queued", "failed", "needs_review", "ready"} == EXPORTABLE


@pytest.mark.parametrize(
    ("method", "mode", "names"),
    [
        ("engrave", "rgb", {"design.svg", "design.pdf", "design.png", "design.dxf"}),
        ("laser_cut", "rgb", {"design.svg", "design.pdf", "design.png", "design.dxf"}),
        ("print", "rgb", {"design.svg", "design.pdf", "design.png"}),
        ("print", "cmyk", {"design.svg", "design.pdf", "design.png", "design-cmyk.pdf", "design-cmyk.tif"}),
    ],
)
def test_pack_files_follow_method_and_colour_mode(method, mode, names):
    res = export_spec(
        _spec(method, mode), "h" * 64, NoResources(), PackOptions(quantity=4), {"snapshot_id": "s"}
    )
    assert {f.name for f in res.files} == names
    assert res.manifest["meta"]["quantity"] == 4 and res.manifest["meta"]["production_method"] == method
    again = export_spec(
        _spec(method, mode), "h" * 64, NoResources(), PackOptions(quantity=4), {"snapshot_id": "s"}
    )
    assert again.data == res.data


def test_read_rows_counts_lines_from_the_header_and_maps_zone_kinds():
    text = 'name,extra\nAda,\n\n"Multi\nline",x\nBob,y,z\n'
    rows = read_rows(text, _product())
    assert [r.line for r in rows] == [2, 4, 6]
    assert rows[0].inputs == {"name": {"text": "Ada"}}
    assert rows[1].inputs["name"] == {"text": "Multi\nline"} and rows[1].inputs["extra"] == {"text": "x"}
    assert "__extra__" in rows[2].inputs
    assert read_rows("", _product()) == []
    assert slug("Zoé & Co!") == "zo-co" and slug("!!") == "item"
