"""The per-order job ticket: one A4 PDF that tells the workshop what to make.

Order number and date, then one block per item: thumbnail (the shopper's preview or mockup,
else the pack's proof PNG), product and SKU, quantity, production method, material/blank,
the pack's file name, the print-check results and the spec_hash. Written with reportlab (the
PDF writer's library) in invariant mode: same ticket ⇒ same bytes. Pure: no I/O.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

CREATOR = "Luneo job ticket"
MM = 72 / 25.4
MARGIN_MM = 15.0
ROW_MM = 46.0
THUMB_MM = 38.0
THUMB_PX = 450  # ≈ 300 dpi at 38 mm: sharp on paper, small in the file


@dataclass(frozen=True)
class TicketItem:
    """One ordered item as the workshop needs it."""

    index: int
    product: str
    sku: str
    quantity: int
    production_method: str
    material: str
    spec_hash: str
    pack_name: str = ""
    status: str = ""
    print_checks: Sequence[dict[str, Any]] = ()
    thumbnail: bytes | None = None


@dataclass(frozen=True)
class Ticket:
    """An order's ticket: header facts and its items (in bundle order)."""

    order_number: str
    order_id: str
    date: datetime
    brand: str = ""
    items: Sequence[TicketItem] = field(default_factory=tuple)


def _text(value: object, limit: int = 90) -> str:
    """Printable in the standard PDF fonts (WinAnsi): other characters become '?'."""
    s = " ".join(str(value).split())
    s = s.encode("cp1252", "replace").decode("cp1252")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _thumb(data: bytes | None) -> ImageReader | None:
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            rgba = im.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    rgba.thumbnail((THUMB_PX, THUMB_PX))
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return ImageReader(flat)


def _checks_lines(checks: Sequence[dict[str, Any]]) -> list[str]:
    if not checks:
        return ["Print checks: all passed"]
    errors = sum(1 for c in checks if c.get("severity") == "error")
    head = f"Print checks: {errors} error(s), {len(checks) - errors} warning(s)"
    lines = [head]
    for c in checks[:3]:
        zone = f" [{c.get('zone')}]" if c.get("zone") else ""
        lines.append(f"  - {c.get('severity', '')}: {c.get('code', '')}{zone} {c.get('message', '')}")
    if len(checks) > 3:
        lines.append(f"  … {len(checks) - 3} more")
    return lines


def write_job_ticket(ticket: Ticket) -> bytes:
    """The ticket as an A4 PDF (several pages when the order has many items)."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
    c.setCreator(CREATOR)
    c.setProducer(CREATOR)
    c.setAuthor(CREATOR)
    c.setTitle(_text(f"Job ticket — order {ticket.order_number}"))
    pw, ph = A4
    left, top = MARGIN_MM * MM, ph - MARGIN_MM * MM
    total_qty = sum(i.quantity for i in ticket.items)
    page = 1

    def header() -> float:
        c.setFont("Helvetica-Bold", 16)
        c.drawString(left, top - 6 * MM, _text(f"Job ticket — order {ticket.order_number}"))
        c.setFont("Helvetica", 9)
        c.drawRightString(pw - left, top - 6 * MM, f"page {page}")
        info = f"{ticket.date:%Y-%m-%d %H:%M} UTC   ·   order {ticket.order_id}"
        if ticket.brand:
            info += f"   ·   {ticket.brand}"
        c.drawString(left, top - 12 * MM, _text(info, 140))
        c.drawString(left, top - 17 * MM, f"{len(ticket.items)} item(s), {total_qty} piece(s) in total")
        c.setLineWidth(0.5)
        c.line(left, top - 20 * MM, pw - left, top - 20 * MM)
        return top - 24 * MM

    y = header()
    for item in ticket.items:
        if y - ROW_MM * MM < MARGIN_MM * MM:
            c.showPage()
            page += 1
            y = header()
        box_y = y - THUMB_MM * MM
        c.setLineWidth(0.3)
        c.rect(left, box_y, THUMB_MM * MM, THUMB_MM * MM)
        reader = _thumb(item.thumbnail)
        if reader is not None:
            iw, ih = reader.getSize()
            scale = min(THUMB_MM * MM / iw, THUMB_MM * MM / ih)
            dw, dh = iw * scale, ih * scale
            c.drawImage(
                reader,
                left + (THUMB_MM * MM - dw) / 2,
                box_y + (THUMB_MM * MM - dh) / 2,
                dw,
                dh,
            )
        else:
            c.setFont("Helvetica", 8)
            c.drawCentredString(left + THUMB_MM * MM / 2, box_y + THUMB_MM * MM / 2, "no preview")
        x = left + (THUMB_MM + 5) * MM
        c.setFont("Helvetica-Bold", 12)
        c.drawString(x, y - 4 * MM, _text(f"#{item.index}  {item.product}  ×{item.quantity}", 70))
        c.setFont("Helvetica", 9)
        status = f"   ·   {item.status}" if item.status else ""
        lines = [
            f"SKU {item.sku}   ·   method {item.production_method}{status}",
            f"Material / blank: {item.material}",
        ]
        if item.pack_name:
            lines.append(f"Files: items/{item.pack_name}.zip")
        lines.append(f"spec_hash {item.spec_hash}")
        lines += _checks_lines(item.print_checks)
        ly = y - 9.5 * MM
        for line in lines[:8]:
            c.drawString(x, ly, _text(line, 110))
            ly -= 4.2 * MM
        y -= ROW_MM * MM
        c.setLineWidth(0.2)
        c.line(left, y + 3 * MM, pw - left, y + 3 * MM)
    c.showPage()
    c.save()
    return buf.getvalue()
