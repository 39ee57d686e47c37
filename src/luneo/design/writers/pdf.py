"""Scene → print-ready PDF at true size (reportlab), text as vector outlines, no fonts.

Page = product + 2×bleed, plus a slug for crop marks when the scene asks for them. The TrimBox
is the product, the BleedBox the product plus bleed; content is clipped to the BleedBox so the
slug only holds the marks. 1 mm = 72/25.4 pt; the scene's y-down mm are flipped to PDF's y-up.
Fills use the non-zero winding rule (as the SVG master). The bleed is filled first
(`luneo.design.bleed`): backgrounds and artwork flush with the trim run on to the bleed edge.

CMYK mode is PDF/X-4: colours and images are separated through the product's output profile
(`luneo.design.colour`: coated FOGRA39 / uncoated FOGRA29; solid colours relative colorimetric,
images perceptual, both with black-point compensation), so no RGB is left; the profile is the
OutputIntent's DestOutputProfile; PDF 1.6 header, GTS_PDFXVersion in the Info dictionary and the
XMP metadata, Trapped False, TrimBox and BleedBox on the page.
Same Scene ⇒ same bytes: reportlab's invariant mode plus fixed creator/producer/title.

`write_pdf(scene, laser=True)` writes the laser PDF of an engrave / laser-cut product (see
`luneo.design.writers.laser`): no material fill, engraved fills as non-zero unions in black,
score, cut and pre-cut outline as hairline strokes in their layer colours (RGB).
"""

from __future__ import annotations

import io
import threading

from PIL import Image
from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFInfo, PDFName, PDFStream, PDFString
from reportlab.pdfgen.canvas import FILL_NON_ZERO, Canvas
from reportlab.pdfgen.pathobject import PDFPathObject

from luneo.design import colour
from luneo.design.bleed import bleed_scene
from luneo.design.geometry import Path
from luneo.design.scene import ImageItem, Scene, ShapeItem, TextItem
from luneo.design.writers import laser as lz
from luneo.design.writers.pdfimage import draw_png

PT_PER_MM = 72.0 / 25.4
CROP_MARK_GAP_MM = 2.0  # distance between the bleed edge and the start of a crop mark
CROP_MARK_LEN_MM = 5.0
CROP_SLUG_PAD_MM = 1.0  # free paper beyond the end of the marks
CROP_MARK_WIDTH_PT = 0.25
CREATOR = "Luneo"
PDFX_VERSION = "PDF/X-4"
PDFX_PDF_VERSION = (1, 6)  # PDF/X-4 is based on PDF 1.6 (transparency allowed)

_LOCK = threading.Lock()  # reportlab's A85 switch is a module global


def crop_slug_mm(scene: Scene) -> float:
    """Extra paper on each side beyond the bleed for crop marks (0 without marks)."""
    return CROP_MARK_GAP_MM + CROP_MARK_LEN_MM + CROP_SLUG_PAD_MM if scene.crop_marks else 0.0


def page_size_mm(scene: Scene) -> tuple[float, float]:
    """(width, height) of the PDF page in mm."""
    m = scene.bleed_mm + crop_slug_mm(scene)
    return (scene.width_mm + 2 * m, scene.height_mm + 2 * m)


def parse_hex(color: str) -> tuple[float, float, float] | None:
    """'#rrggbb' or '#rgb' → (r, g, b) in 0..1; 'none'/'transparent'/'' → None."""
    c = color.strip().lower()
    if c in ("", "none", "transparent"):
        return None
    if not c.startswith("#") or len(c) not in (4, 7):
        raise ValueError(f"unsupported colour {color!r} (expected #rrggbb)")
    h = c[1:]
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    v = int(h, 16)
    return ((v >> 16 & 255) / 255.0, (v >> 8 & 255) / 255.0, (v & 255) / 255.0)


class _CmykAlphaReader(ImageReader):
    """ImageReader that hands reportlab CMYK pixels plus an alpha channel (→ /SMask)."""

    def __init__(self, cmyk: Image.Image, alpha: Image.Image | None) -> None:
        super().__init__(cmyk)
        self._cmyk_data = cmyk.tobytes()
        self._alpha = alpha

    def getRGBData(self) -> bytes:
        if getattr(self, "_data", None) is None:
            self._dataA = ImageReader(self._alpha) if self._alpha is not None else None
            self.mode = "CMYK"
            self._data = self._cmyk_data
        return self._cmyk_data


class _OutlineCanvas(Canvas):
    """Canvas that never selects a font: reportlab's preamble otherwise references Helvetica."""

    def _make_preamble(self) -> None:
        self._preamble = "1 0 0 1 0 0 cm"  # bottom-up page, default black fill/stroke, no BT/Tf


class _PdfPainter:
    def __init__(self, canvas: Canvas, scene: Scene, cmyk: bool) -> None:
        self.c = canvas
        self.scene = scene
        self.cmyk = cmyk
        self.profile = scene.cmyk_profile
        self.margin = scene.bleed_mm + crop_slug_mm(scene)

    def x(self, x_mm: float) -> float:
        return (x_mm + self.margin) * PT_PER_MM

    def y(self, y_mm: float) -> float:
        return (self.scene.height_mm + self.margin - y_mm) * PT_PER_MM

    def path(self, path: Path) -> PDFPathObject:
        p = self.c.beginPath()
        cur = start = (0.0, 0.0)
        open_ = False
        for op, a in path.commands:
            if op == "M":
                cur = start = (a[0], a[1])
                p.moveTo(self.x(a[0]), self.y(a[1]))
                open_ = True
                continue
            if op == "Z":
                if open_:
                    p.close()
                cur, open_ = start, False
                continue
            if not open_:
                p.moveTo(self.x(start[0]), self.y(start[1]))
                open_ = True
            if op == "L":
                p.lineTo(self.x(a[0]), self.y(a[1]))
                cur = (a[0], a[1])
            elif op == "Q":
                qx, qy, ex, ey = a
                c1 = (cur[0] + 2 / 3 * (qx - cur[0]), cur[1] + 2 / 3 * (qy - cur[1]))
                c2 = (ex + 2 / 3 * (qx - ex), ey + 2 / 3 * (qy - ey))
                p.curveTo(self.x(c1[0]), self.y(c1[1]), self.x(c2[0]), self.y(c2[1]), self.x(ex), self.y(ey))
                cur = (ex, ey)
            elif op == "C":
                p.curveTo(self.x(a[0]), self.y(a[1]), self.x(a[2]), self.y(a[3]), self.x(a[4]), self.y(a[5]))
                cur = (a[4], a[5])
            else:
                raise ValueError(f"unknown path command {op!r}")
        return p

    def set_fill(self, color: str) -> bool:
        rgb = parse_hex(color)
        if rgb is None:
            return False
        if self.cmyk:
            self.c.setFillColorCMYK(*colour.srgb_to_cmyk(*rgb, self.profile))
        else:
            self.c.setFillColorRGB(*rgb)
        return True

    def set_stroke(self, color: str) -> bool:
        rgb = parse_hex(color)
        if rgb is None:
            return False
        if self.cmyk:
            self.c.setStrokeColorCMYK(*colour.srgb_to_cmyk(*rgb, self.profile))
        else:
            self.c.setStrokeColorRGB(*rgb)
        return True

    def fill_path(self, path: Path, color: str) -> None:
        if path.is_empty() or not self.set_fill(color):
            return
        self.c.drawPath(self.path(path), stroke=0, fill=1, fillMode=FILL_NON_ZERO)

    def shape(self, item: ShapeItem) -> None:
        fill = item.fill is not None and self.set_fill(item.fill)
        stroke = item.stroke is not None and item.stroke_width_mm > 0 and self.set_stroke(item.stroke)
        if item.path.is_empty() or not (fill or stroke):
            return
        if stroke:
            self.c.setLineWidth(item.stroke_width_mm * PT_PER_MM)
            self.c.setLineJoin(0)
            self.c.setLineCap(0)
        self.c.drawPath(self.path(item.path), stroke=int(stroke), fill=int(fill), fillMode=FILL_NON_ZERO)

    def text(self, item: TextItem) -> None:
        cmds = tuple(cmd for g in item.glyphs for cmd in g.commands)
        self.fill_path(Path(cmds), item.fill)

    def image(self, item: ImageItem) -> None:
        self.c.saveState()
        if not item.clip.is_empty():
            self.c.clipPath(self.path(item.clip), stroke=0, fill=0, fillMode=FILL_NON_ZERO)
        box = (self.x(item.x_mm), self.y(item.y_mm + item.height_mm), item.width_mm * PT_PER_MM)
        # RGB: the PNG's own deflated pixels go in as they are (`pdfimage`), no decode/re-encode.
        if self.cmyk or not draw_png(self.c, item.png, *box, item.height_mm * PT_PER_MM):
            with Image.open(io.BytesIO(item.png)) as src:
                src.load()
                reader = self._reader(src)
            self.c.drawImage(reader, *box, item.height_mm * PT_PER_MM, mask="auto")
        self.c.restoreState()

    def _reader(self, src: Image.Image) -> ImageReader:
        has_alpha = src.mode in ("RGBA", "LA", "PA") or (src.mode == "P" and "transparency" in src.info)
        if not self.cmyk:
            return ImageReader(src.convert("RGBA" if has_alpha else "RGB"))
        alpha = src.convert("RGBA").getchannel("A") if has_alpha else None
        if alpha is not None and alpha.getextrema() == (255, 255):
            alpha = None
        cmyk = colour.srgb_image_to_cmyk(src, self.profile, "perceptual")
        return _CmykAlphaReader(cmyk, alpha)

    def crop_marks(self) -> None:
        s = self.scene
        start = s.bleed_mm + CROP_MARK_GAP_MM
        end = start + CROP_MARK_LEN_MM
        if self.cmyk:  # registration colour: on every separation
            self.c.setStrokeColorCMYK(1, 1, 1, 1)
        else:
            self.c.setStrokeColorRGB(0, 0, 0)
        self.c.setLineWidth(CROP_MARK_WIDTH_PT)
        self.c.setLineCap(0)
        w, h = s.width_mm, s.height_mm
        for cx in (0.0, w):
            for cy in (0.0, h):
                sx = -1.0 if cx == 0.0 else 1.0
                sy = -1.0 if cy == 0.0 else 1.0
                # horizontal mark on the trim line y = cy, outside the bleed
                self.c.line(self.x(cx + sx * start), self.y(cy), self.x(cx + sx * end), self.y(cy))
                # vertical mark on the trim line x = cx
                self.c.line(self.x(cx), self.y(cy + sy * start), self.x(cx), self.y(cy + sy * end))

    def hairline(self, path: Path, layer: lz.LaserLayer) -> None:
        if path.is_empty() or not self.set_stroke(layer.color):
            return
        self.c.setLineWidth(lz.HAIRLINE_MM * PT_PER_MM)
        self.c.setLineJoin(0)
        self.c.setLineCap(0)
        self.c.drawPath(self.path(path), stroke=1, fill=0)

    def laser(self) -> None:
        """Laser layers in run order: engrave fills (and images), score, cut, pre-cut outline."""
        s = self.scene
        fills: list[ImageItem | Path] = []
        strokes: dict[str, list[Path]] = {lz.SCORE.name: [], lz.CUT.name: [], lz.OUTLINE.name: []}
        strokes[lz.outline_layer(s).name].append(s.outline)
        for item in s.items:
            layer = lz.item_layer(item)
            if layer is None:
                continue
            if isinstance(item, ImageItem):
                fills.append(item)
                continue
            if isinstance(item, TextItem) or layer is lz.ENGRAVE:
                fills.append(lz.rings_path(lz.union_rings(lz.item_path(item))))
                if isinstance(item, ShapeItem) and item.stroke and item.stroke_width_mm > 0:
                    strokes[lz.SCORE.name].append(item.path)
            else:
                assert isinstance(item, ShapeItem)
                strokes[layer.name].append(item.path)
        for f in fills:
            if isinstance(f, ImageItem):
                self.image(f)
            else:
                self.fill_path(f, lz.ENGRAVE.color)
        for layer in (lz.SCORE, lz.CUT, lz.OUTLINE):
            for path in strokes[layer.name]:
                self.hairline(path, layer)

    def paint(self, laser: bool = False) -> None:
        s = self.scene
        b = s.bleed_mm
        self.c.saveState()
        clip = self.c.beginPath()
        clip.rect(
            self.x(-b),
            self.y(s.height_mm + b),
            (s.width_mm + 2 * b) * PT_PER_MM,
            (s.height_mm + 2 * b) * PT_PER_MM,
        )
        self.c.clipPath(clip, stroke=0, fill=0)
        if laser:
            self.laser()
            self.c.restoreState()
            return
        if s.background:
            self.fill_path(s.outline, s.background)
        for item in s.items:
            if isinstance(item, ShapeItem):
                self.shape(item)
            elif isinstance(item, TextItem):
                self.text(item)
            else:
                self.image(item)
        self.c.restoreState()
        if s.crop_marks:
            self.crop_marks()


def write_pdf(scene: Scene, *, cmyk: bool | None = None, laser: bool = False) -> bytes:
    """Render the Scene as a one-page PDF; `cmyk` defaults to scene.color_mode == "cmyk".

    laser: the laser PDF (always RGB: lasers map operations by exact RGB colour).
    """
    use_cmyk = False if laser else scene.color_mode == "cmyk" if cmyk is None else cmyk
    if not laser:
        scene = bleed_scene(scene)  # backgrounds and flush artwork run on into the bleed
    pw, ph = page_size_mm(scene)
    buf = io.BytesIO()
    with _LOCK:
        saved_a85 = rl_config.useA85
        rl_config.useA85 = 0  # binary Flate streams: a quarter smaller than ASCII85
        try:
            c = _OutlineCanvas(
                buf,
                pagesize=(pw * PT_PER_MM, ph * PT_PER_MM),
                invariant=1,
                pageCompression=1,
                pdfVersion=PDFX_PDF_VERSION if use_cmyk else None,
            )
            c.setCreator(CREATOR)
            c.setProducer(CREATOR)
            c.setAuthor(CREATOR)
            c.setTitle(f"Luneo {scene.spec_hash}" if scene.spec_hash else "Luneo")
            m = scene.bleed_mm + crop_slug_mm(scene)
            k = PT_PER_MM
            trim = (m * k, m * k, (m + scene.width_mm) * k, (m + scene.height_mm) * k)
            bm = crop_slug_mm(scene)
            bleed = (bm * k, bm * k, (pw - bm) * k, (ph - bm) * k)
            c.setTrimBox(trim)
            c.setBleedBox(bleed)
            if use_cmyk:
                _make_pdfx4(c, scene)
            _PdfPainter(c, scene, use_cmyk).paint(laser)
            c.showPage()
            c.save()
        finally:
            rl_config.useA85 = saved_a85
    return buf.getvalue()


class _PdfxInfo(PDFInfo):
    """The Info dictionary plus the PDF/X version key."""

    def format(self, document):  # type: ignore[no-untyped-def]
        base = super().format(document)
        extra = PDFDictionary({"GTS_PDFXVersion": PDFString(PDFX_VERSION)}).format(document)
        return base[: base.rindex(b">>")] + extra[2 : extra.rindex(b">>")] + b">>"


_XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
 xmlns:pdfxid="http://www.npes.org/pdfx/ns/id/">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
<xmp:CreatorTool>Luneo</xmp:CreatorTool><xmp:CreateDate>2000-01-01T00:00:00Z</xmp:CreateDate>
<xmp:ModifyDate>2000-01-01T00:00:00Z</xmp:ModifyDate><pdf:Producer>Luneo</pdf:Producer><pdf:Trapped>False</pdf:Trapped>
<xmpMM:DocumentID>uuid:{uuid}</xmpMM:DocumentID><xmpMM:VersionID>1</xmpMM:VersionID>
<xmpMM:RenditionClass>default</xmpMM:RenditionClass><pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="r"?>"""


def _make_pdfx4(c: Canvas, scene: Scene) -> None:
    """OutputIntent (the product's CMYK profile), PDF/X Info key and XMP metadata."""
    import hashlib
    import uuid
    from xml.sax.saxutils import escape

    doc = c._doc
    profile = scene.cmyk_profile
    ident, condition = colour.OUTPUT_CONDITIONS[profile]
    icc = PDFStream(PDFDictionary({"N": 4}), colour.cmyk_profile_bytes(profile))
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFX"),
            "OutputConditionIdentifier": PDFString(ident),
            "OutputCondition": PDFString(condition),
            "RegistryName": PDFString("http://www.color.org"),
            "Info": PDFString(condition),
            "DestOutputProfile": doc.Reference(icc),
        }
    )
    title = f"Luneo {scene.spec_hash}" if scene.spec_hash else "Luneo"
    # Same scene ⇒ same document id (byte-deterministic files).
    doc_id = uuid.UUID(bytes=hashlib.sha256(f"{title}|{profile}".encode()).digest()[:16])
    xmp = PDFStream(
        PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}),
        _XMP.format(title=escape(title), uuid=doc_id).encode("utf-8"),
        filters=[],  # uncompressed: preflight tools read it as text
    )
    cat = doc.Catalog
    cat.__NoDefault__ = [*type(cat).__NoDefault__, "OutputIntents"]
    cat.OutputIntents = PDFArray([intent])
    cat.Metadata = doc.Reference(xmp)
    doc.info.__class__ = _PdfxInfo
