"""The per-order job ticket PDF: A4, valid for qpdf, deterministic, every item's facts and
thumbnail, several pages for a long order."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from luneo.design.ticket import Ticket, TicketItem, write_job_ticket

A4_PT = (595.2756, 841.8898)


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (800, 500), (200, 30, 30, 255)).save(buf, "PNG")
    return buf.getvalue()


def _ticket(n: int = 2) -> Ticket:
    items = [
        TicketItem(
            index=i,
            product="Pendentif Zoé",
            sku=f"PEND-{i}",
            quantity=i * 10,
            production_method="engrave",
            material="30 x 30 mm ellipse, colour #c9a227, RGB",
            spec_hash="ab" * 32,
            pack_name=f"1042_{i}_PEND",
            status="ready",
            print_checks=[{"code": "thin_stroke", "severity": "warning", "zone": "name", "message": "thin"}]
            if i == 1
            else [],
            thumbnail=_png() if i % 2 else None,
        )
        for i in range(1, n + 1)
    ]
    return Ticket(
        order_number="1042",
        order_id="ord_1",
        date=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
        brand="Demo",
        items=items,
    )


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (float(m.group(3)) - float(m.group(1)), float(m.group(4)) - float(m.group(2)))
        for m in re.finditer(rb"/MediaBox \[\s*([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)\s*\]", pdf)
    ]


def test_ticket_is_a4_deterministic_and_holds_the_thumbnails() -> None:
    pdf = write_job_ticket(_ticket())
    assert pdf.startswith(b"%PDF-") and pdf == write_job_ticket(_ticket())
    assert _pages(pdf) == [pytest.approx(A4_PT, abs=0.05)]
    assert pdf.count(b"/Subtype /Image") == 1  # item 2 has no thumbnail: "no preview"


def test_a_long_order_flows_onto_more_a4_pages() -> None:
    pages = _pages(write_job_ticket(_ticket(14)))
    assert len(pages) >= 3 and all(p == pytest.approx(A4_PT, abs=0.05) for p in pages)


def test_ticket_text_lists_order_items_and_checks(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = tmp_path / "t.pdf"
    path.write_bytes(write_job_ticket(_ticket()))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for needle in (
        "1042",
        "2026-05-01",
        "PEND-1",
        "×10",
        "×20",
        "engrave",
        "#c9a227",
        "ab" * 32,
        "thin_stroke",
    ):
        assert needle in text, needle
    assert "Pendentif Zoé" in text and "1 warning" in text and "all passed" in text


def test_qpdf_check_passes(tmp_path: Path) -> None:
    if shutil.which("qpdf") is None:
        pytest.skip("qpdf not installed (apt-get install -y qpdf)")
    path = tmp_path / "t.pdf"
    path.write_bytes(write_job_ticket(_ticket(14)))
    res = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
