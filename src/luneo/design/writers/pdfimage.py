"""Place a Scene image's PNG on a reportlab canvas without re-encoding its pixels.

reportlab's `drawImage` decodes the image, hashes the raw pixels and deflates them again at
level 6 (the largest cost of a photo product's PDF). `draw_png` embeds the PNG's own IDAT
stream instead (`pngenc.pdf_image_streams`: FlateDecode + PNG predictor; colour and alpha split
only when the PNG has alpha), registered and drawn exactly as `drawImage` would (one XObject per
distinct PNG, an /SMask for alpha), so the page renders the same pixels. Same PNG ⇒ same bytes.
"""

from __future__ import annotations

import hashlib

from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFObject, PDFStream
from reportlab.pdfgen.canvas import Canvas

from luneo.design.writers.pngenc import PdfImageData, pdf_image_streams


class _PngImageXObject(PDFObject):
    """An image XObject whose data is already Flate-compressed with PNG predictors."""

    def __init__(self, name: str, img: PdfImageData, smask_decode: bool = False) -> None:
        self.name = name
        self.img = img
        self.smask: PDFObject | None = None
        self.smask_decode = smask_decode

    def format(self, document):  # type: ignore[no-untyped-def]
        img = self.img
        s = PDFStream(content=img.data)
        d = s.dictionary
        d["Type"] = PDFName("XObject")
        d["Subtype"] = PDFName("Image")
        d["Width"] = img.width
        d["Height"] = img.height
        d["BitsPerComponent"] = 8
        d["ColorSpace"] = PDFName("DeviceRGB" if img.colors == 3 else "DeviceGray")
        if self.smask_decode:
            d["Decode"] = PDFArray([0, 1])
        d["Filter"] = PDFArray([PDFName("FlateDecode")])
        # one DecodeParms per filter: with an array /Filter a bare dictionary is ignored by readers
        d["DecodeParms"] = PDFArray(
            [
                PDFDictionary(
                    {"Predictor": 15, "Colors": img.colors, "BitsPerComponent": 8, "Columns": img.width}
                )
            ]
        )
        d["Length"] = len(img.data)
        if self.smask is not None:
            d["SMask"] = self.smask
        return s.format(document)


def draw_png(canvas: Canvas, png: bytes, x: float, y: float, width: float, height: float) -> bool:
    """Draw `png` in the rectangle (x, y, width, height) (points, y up) as `drawImage` does;
    False (nothing drawn) when the PNG needs the general path (palette, 16-bit, interlaced)."""
    streams = pdf_image_streams(png)
    if streams is None:
        return False
    colour, alpha = streams
    doc = canvas._doc
    name = "png" + hashlib.sha256(png).hexdigest()[:32]
    reg = doc.getXObjectName(name)
    if doc.idToObject.get(reg) is None:
        obj = _PngImageXObject(name, colour)
        canvas._setXObjects(obj)
        doc.Reference(obj, reg)
        doc.addForm(name, obj)
        if alpha is not None:
            mask = _PngImageXObject(name + "a", alpha, smask_decode=True)
            canvas._setXObjects(mask)
            obj.smask = doc.Reference(mask, doc.getXObjectName(mask.name))
    canvas._currentPageHasImages = 1
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(width, height)
    canvas._code.append(f"/{reg} Do")
    canvas.restoreState()
    canvas._formsinuse.append(name)
    return True
