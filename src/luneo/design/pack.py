"""Production packs: deterministic ZIPs with a `manifest.json`, and the one pack builder.

A pack holds one ordered item's files; a bundle holds every pack of an order. Both are
byte-stable: entries are written in a fixed order (manifest first, then names sorted), with a
1980-01-01 timestamp, 0644 permissions, Unix "made by", deflate level 9 and no extra fields or
comments. The manifest is canonical JSON (sorted keys, indent 2, UTF-8, trailing newline).

`build_production_pack(scene, spec, ...)` is the only place that decides which files a
production pack holds, their names and their bytes: `luneo render --formats pack`, the API's
export job, `luneo export`, `luneo bulk` and the dashboard's bulk upload all call it. Every
manifest entry (bytes, sha256, width/height in mm, dpi) is measured on the file written.

File names follow the brand's pattern (`file_name_pattern` setting; `check_pattern`): tokens
`{order}`, `{item}` (1-based), `{sku}`, `{text}` (first text zone), `{qty}`, `{product}` and
`{format}`; the extension is added; only ASCII letters, digits, `-`, `_` and `.` survive; names
are bounded and made unique with `-2`, `-3` suffixes. No pattern = today's names.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from luneo.design.model import DesignSpec
    from luneo.design.print_checks import PrintIssue
    from luneo.design.scene import Scene

MANIFEST_NAME = "manifest.json"
PACK_FORMAT = "luneo-production-pack/1"
BUNDLE_FORMAT = "luneo-order-bundle/1"
_EPOCH = (1980, 1, 1, 0, 0, 0)
_MODE = 0o100644  # regular file, rw-r--r--


@dataclass(frozen=True, slots=True)
class PackFile:
    """One production file: bytes plus what a printer needs to know about it (dpi None = vector)."""

    name: str
    data: bytes
    media_type: str
    width_mm: float
    height_mm: float
    dpi: int | None = None


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, 2-space indent, UTF-8, trailing newline; NaN/Infinity rejected."""
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_name(name: str) -> None:
    parts = name.split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or any(p in ("", ".", "..") for p in parts)
        or name == MANIFEST_NAME
    ):
        raise ValueError(f"invalid file name in pack: {name!r}")


# Already-compressed formats are stored as they are: deflating them again costs time for nothing.
_STORED_TYPES = (
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/tiff",
    "application/pdf",
    "application/zip",
    "model/gltf-binary",
    "model/vnd.usdz+zip",
)


def _method(media_type: str) -> int:
    return zipfile.ZIP_STORED if media_type.split(";")[0].strip() in _STORED_TYPES else zipfile.ZIP_DEFLATED


def _zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data, method in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = method
            info.create_system = 3
            info.external_attr = _MODE << 16
            zf.writestr(
                info, data, compress_type=method, compresslevel=6 if method == zipfile.ZIP_DEFLATED else None
            )
    return out.getvalue()


_MM_PER_PT = 25.4 / 72
_PDF_MEDIABOX = re.compile(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]")
_SVG_SIZE = re.compile(rb'<svg\b[^>]*?\bwidth="([\d.]+)mm"[^>]*?\bheight="([\d.]+)mm"', re.S)


def measure(f: PackFile) -> PackFile:
    """The file with its size (mm) and dpi read from its own bytes: the PDF's MediaBox, the SVG's
    mm width/height, a PNG/TIFF's pixels and resolution. Formats without an intrinsic page size
    (DXF) and unreadable data keep the declared values."""
    kind = f.media_type.split(";")[0].strip()
    try:
        if kind == "application/pdf":
            m = _PDF_MEDIABOX.search(f.data)
            if m:
                x0, y0, x1, y1 = (float(v) for v in m.groups())
                w, h = (x1 - x0) * _MM_PER_PT, (y1 - y0) * _MM_PER_PT
                return replace(f, width_mm=round(w, 3), height_mm=round(h, 3), dpi=None)
        elif kind == "image/svg+xml":
            m = _SVG_SIZE.search(f.data[:4096])
            if m:
                return replace(f, width_mm=round(float(m.group(1)), 3), height_mm=round(float(m.group(2)), 3))
        elif kind in ("image/png", "image/tiff"):
            from PIL import Image

            with Image.open(io.BytesIO(f.data)) as im:
                res = im.info.get("dpi")
                dpi = round(float(res[0])) if res and float(res[0]) > 0 else f.dpi
                if dpi:
                    w, h = im.width / dpi * 25.4, im.height / dpi * 25.4
                    return replace(f, width_mm=round(w, 3), height_mm=round(h, 3), dpi=int(dpi))
    except (OSError, ValueError, SyntaxError):
        return f
    return f


def build_pack(files: list[PackFile], manifest_meta: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """ZIP bytes and the manifest dict for one item's production files.

    `manifest_meta` (order_id, item_id, snapshot_id, spec_hash, product, quantity,
    production_method, ...) is copied under "meta"; each file is listed with name, sha256,
    bytes, media_type, width_mm, height_mm and dpi (null for vector files), all measured on
    the file's bytes (`measure`).
    """
    files = [measure(f) for f in files]
    seen: set[str] = set()
    for f in files:
        _check_name(f.name)
        if f.name in seen:
            raise ValueError(f"duplicate file name in pack: {f.name!r}")
        seen.add(f.name)
    ordered = sorted(files, key=lambda f: f.name)
    manifest: dict[str, Any] = {
        "format": PACK_FORMAT,
        "meta": dict(manifest_meta),
        "files": [
            {
                "name": f.name,
                "sha256": sha256_hex(f.data),
                "bytes": len(f.data),
                "media_type": f.media_type,
                "width_mm": f.width_mm,
                "height_mm": f.height_mm,
                "dpi": f.dpi,
            }
            for f in ordered
        ],
    }
    manifest_bytes = canonical_json(manifest)
    entries = [(MANIFEST_NAME, manifest_bytes, zipfile.ZIP_DEFLATED)]
    entries += [(f.name, f.data, _method(f.media_type)) for f in ordered]
    # round-trip so the returned dict is exactly what the archive holds
    return _zip(entries), json.loads(manifest_bytes)


def build_bundle(
    packs: list[tuple[str, bytes]], meta: dict[str, Any], extra: Sequence[PackFile] = ()
) -> bytes:
    """A per-order ZIP: each item's pack as `items/<name>.zip` (stored as is) plus an order manifest.

    `packs` pairs a name (e.g. the item id) with that item's pack bytes; `meta` (order id,
    brand, ...) goes under "meta"; the manifest lists each pack's path, sha256 and size, and each
    `extra` file (e.g. the job ticket `ticket.pdf`, at the root) under "files".
    """
    seen: set[str] = set()
    for name, _ in packs:
        _check_name(name)
        if "/" in name or name in seen:
            raise ValueError(f"invalid or duplicate pack name: {name!r}")
        seen.add(name)
    extras = sorted((measure(f) for f in extra), key=lambda f: f.name)
    for f in extras:
        _check_name(f.name)
        if "/" in f.name or f.name == "items" or f.name in {e.name for e in extras if e is not f}:
            raise ValueError(f"invalid or duplicate bundle file name: {f.name!r}")
    ordered = sorted(packs, key=lambda p: p[0])
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "meta": dict(meta),
        "items": [
            {"name": name, "path": f"items/{name}.zip", "sha256": sha256_hex(data), "bytes": len(data)}
            for name, data in ordered
        ],
    }
    if extras:
        manifest["files"] = [
            {"name": f.name, "sha256": sha256_hex(f.data), "bytes": len(f.data), "media_type": f.media_type}
            for f in extras
        ]
    entries = [(MANIFEST_NAME, canonical_json(manifest), zipfile.ZIP_DEFLATED)]
    entries += [(f.name, f.data, _method(f.media_type)) for f in extras]
    entries += [(f"items/{name}.zip", data, zipfile.ZIP_STORED) for name, data in ordered]
    return _zip(entries)


# --------------------------------------------------------------------------- file names

PATTERN_TOKENS = ("order", "item", "sku", "text", "qty", "product", "format")
MAX_PATTERN_LEN = 200
MAX_STEM_LEN = 100  # before the variant suffix, the collision suffix and the extension
_TOKEN = re.compile(r"\{([^{}]*)\}")
_SAFE_LITERAL = re.compile(r"[A-Za-z0-9._-]")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_TEXT_SLUG_LEN = 40

#: kind → (today's name, media type): the default names, in the pack's writing order.
PACK_KINDS: dict[str, tuple[str, str]] = {
    "svg": ("design.svg", "image/svg+xml"),
    "pdf": ("design.pdf", "application/pdf"),
    "png": ("design.png", "image/png"),
    "dxf": ("design.dxf", "image/vnd.dxf"),
    "cmyk-pdf": ("design-cmyk.pdf", "application/pdf"),
    "cmyk-tif": ("design-cmyk.tif", "image/tiff"),
}


class PatternError(ValueError):
    """A file-name pattern that cannot be used; `token` is the offending part."""

    def __init__(self, message: str, token: str) -> None:
        super().__init__(message)
        self.token = token


@dataclass(frozen=True, slots=True)
class NameContext:
    """What the pattern's tokens are filled with for one ordered item."""

    order: str | None = None
    item: int | None = None
    sku: str = ""
    text: str = ""
    qty: int = 1
    product: str = ""


def check_pattern(pattern: str) -> None:
    """Raise `PatternError` naming the first bad token or character; None when usable."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise PatternError("file_name_pattern: must not be empty", "")
    if len(pattern) > MAX_PATTERN_LEN:
        raise PatternError(f"file_name_pattern: at most {MAX_PATTERN_LEN} characters", "")
    pos = 0
    for m in _TOKEN.finditer(pattern):
        _check_literal(pattern[pos : m.start()])
        if m.group(1) not in PATTERN_TOKENS:
            raise PatternError(
                f"file_name_pattern: unknown token {m.group(0)} (known: "
                + ", ".join("{" + t + "}" for t in PATTERN_TOKENS)
                + ")",
                m.group(0),
            )
        pos = m.end()
    _check_literal(pattern[pos:])


def _check_literal(text: str) -> None:
    for i, ch in enumerate(text):
        if ch in "{}":
            bad = text[i:].split("}")[0] if ch == "{" else ch
            raise PatternError(f"file_name_pattern: unbalanced brace in {bad!r}", bad)
        if not _SAFE_LITERAL.fullmatch(ch):
            raise PatternError(
                f"file_name_pattern: character {ch!r} is not allowed (ASCII letters, digits, '-', '_', '.')",
                ch,
            )


def slugify(value: str, limit: int = _TEXT_SLUG_LEN) -> str:
    """ASCII letters, digits and single `-` (accents folded: "Zoé & Léa!" → "Zoe-Lea")."""
    ascii_ = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_).strip("-")[:limit].strip("-")


def _clean(stem: str) -> str:
    stem = _UNSAFE.sub("-", stem)
    stem = re.sub(r"\.{2,}", ".", stem)
    stem = re.sub(r"([-_.])[-_.]+", r"\1", stem)
    return stem[:MAX_STEM_LEN].strip("-_.")


def _expand(pattern: str, ctx: NameContext, fmt: str) -> str:
    values = {
        "order": slugify(ctx.order or "", 40),
        "item": str(ctx.item or 1),
        "sku": slugify(ctx.sku, 40),
        "text": slugify(ctx.text),
        "qty": str(ctx.qty),
        "product": slugify(ctx.product, 40),
        "format": fmt,
    }
    return _clean(_TOKEN.sub(lambda m: values.get(m.group(1), ""), pattern))


def _unique(names: Iterable[tuple[str, str]]) -> list[str]:
    """(stem, extension) pairs → unique names: a repeated name gets `-2`, `-3`, … before the extension."""
    taken: set[str] = set()
    out: list[str] = []
    for stem, ext in names:
        n, name = 1, f"{stem}{ext}"
        while name.lower() in taken:
            n += 1
            name = f"{stem}-{n}{ext}"
        taken.add(name.lower())
        out.append(name)
    return out


def pack_file_names(pattern: str | None, ctx: NameContext, kinds: Sequence[str]) -> list[str]:
    """The names of a pack's files (`kinds` from `PACK_KINDS`), in the same order.

    No pattern: today's names (`design.svg`, `design-cmyk.pdf`, ...). With a pattern the
    extension is added; a CMYK variant gets `-cmyk` unless the pattern holds `{format}`."""
    if not pattern:
        return [PACK_KINDS[k][0] for k in kinds]
    check_pattern(pattern)
    pairs = []
    for kind in kinds:
        ext = "." + PACK_KINDS[kind][0].rsplit(".", 1)[1]
        stem = _expand(pattern, ctx, kind) or "design"
        if kind.startswith("cmyk-") and "{format}" not in pattern:
            stem += "-cmyk"
        pairs.append((stem, ext))
    return _unique(pairs)


def bundle_item_names(
    pattern: str | None, contexts: Sequence[NameContext], defaults: Sequence[str]
) -> list[str]:
    """Names of the items' packs in an order bundle (`items/<name>.zip`): `defaults` (the order
    item ids) without a pattern, else the pattern with `{format}` = `pack`, made unique."""
    if not pattern:
        return list(defaults)
    check_pattern(pattern)
    return _unique((_expand(pattern, ctx, "pack") or "item", "") for ctx in contexts)


def first_text(spec: DesignSpec) -> str:
    """The text of the product's first text zone that has one ('' when none)."""
    for zone in spec.product.zones:
        value = spec.inputs.get(zone.key)
        if zone.kind == "text" and value is not None and getattr(value, "kind", "") == "text":
            text = str(getattr(value, "text", "")).strip()
            if text:
                return text
    return ""


def name_context(
    spec: DesignSpec, *, order: str | None = None, item: int | None = None, qty: int = 1
) -> NameContext:
    """The pattern's values for one item of `spec`."""
    product = spec.product
    return NameContext(
        order=order,
        item=item,
        sku=product.sku,
        text=first_text(spec),
        qty=qty,
        product=product.name or product.sku,
    )


# --------------------------------------------------------------------------- the pack builder

DXF_METHODS = frozenset({"engrave", "laser_cut"})


@dataclass
class BuiltPack:
    """One item's production pack: ZIP bytes, its manifest, the files inside, the print checks."""

    data: bytes
    manifest: dict[str, Any]
    files: list[PackFile]
    issues: list[PrintIssue]
    timings_ms: dict[str, float] = field(default_factory=dict)


def production_files(
    scene: Scene,
    spec: DesignSpec,
    *,
    kerf_mm: float = 0.0,
    names: NameContext | None = None,
    pattern: str | None = None,
    timings: dict[str, float] | None = None,
) -> list[PackFile]:
    """Every production file of one Scene, named by `pattern` (None: `PACK_KINDS` names).

    - `svg`  true size in mm, text as outlines, images embedded (the master);
    - `pdf`  true size, vector, bleed and crop marks when the product asks (RGB);
    - `png`  at the product's DPI, sRGB tagged (the visual proof);
    - `dxf`  for `engrave` / `laser_cut` products (R2010, mm, CUT / ENGRAVE layers, kerf);
    - `cmyk-pdf`, `cmyk-tif` when the product's colour mode is CMYK.
    """
    from luneo.design.writers.dxf import write_dxf
    from luneo.design.writers.laser import is_laser
    from luneo.design.writers.pdf import page_size_mm, write_pdf
    from luneo.design.writers.raster import write_print_png
    from luneo.design.writers.svg import canvas_box, write_svg
    from luneo.design.writers.tiff import write_cmyk_tiff

    product = spec.product
    t = timings if timings is not None else {}
    _, _, cw, ch = canvas_box(scene)
    pw, ph = page_size_mm(scene)
    dpi = product.output_dpi

    def timed(name: str, fn: Callable[[], bytes]) -> bytes:
        start = time.perf_counter()
        out = fn()
        t[name] = t.get(name, 0.0) + (time.perf_counter() - start) * 1000
        return out

    laser = is_laser(scene)  # laser conventions for the vector files; the PNG stays the visual proof
    made: list[tuple[str, bytes, float, float, int | None]] = [
        ("svg", timed("svg", lambda: write_svg(scene, laser=laser)), cw, ch, None),
        ("pdf", timed("pdf", lambda: write_pdf(scene, cmyk=False, laser=laser)), pw, ph, None),
    ]
    png = timed("png", lambda: write_print_png(scene, dpi))
    made.append(("png", png, cw, ch, dpi))
    if product.production_method in DXF_METHODS:
        dxf = timed("dxf", lambda: write_dxf(scene, kerf_mm=kerf_mm))
        made.append(("dxf", dxf, product.width_mm, product.height_mm, None))
    if product.color_mode == "cmyk":
        made.append(("cmyk-pdf", timed("pdf_cmyk", lambda: write_pdf(scene, cmyk=True)), pw, ph, None))
        tif = timed("tiff_cmyk", lambda: write_cmyk_tiff(png, dpi, scene.cmyk_profile))
        made.append(("cmyk-tif", tif, cw, ch, dpi))
    file_names = pack_file_names(pattern, names or name_context(spec), [k for k, *_ in made])
    return [
        PackFile(name, data, PACK_KINDS[kind][1], w, h, res)
        for name, (kind, data, w, h, res) in zip(file_names, made, strict=True)
    ]


def issue_dict(issue: PrintIssue) -> dict[str, Any]:
    return {
        "code": issue.code,
        "zone": issue.zone,
        "severity": issue.severity,
        "message": issue.message,
        "params": dict(issue.params),
    }


def build_production_pack(
    scene: Scene,
    spec: DesignSpec,
    *,
    quantity: int = 1,
    kerf_mm: float = 0.0,
    order_id: str | None = None,
    order_item_id: str | None = None,
    order_number: str | None = None,
    item_index: int | None = None,
    name_pattern: str | None = None,
    meta: dict[str, Any] | None = None,
) -> BuiltPack:
    """THE production pack of one item (deterministic): print checks, files, manifest, ZIP.

    `meta` (snapshot_id, brand_id, ...) is merged into the manifest's "meta"."""
    from luneo.design.print_checks import markup_pack_files, run_print_checks

    timings: dict[str, float] = {}
    start = time.perf_counter()
    issues = run_print_checks(scene, spec.product)
    timings["checks"] = (time.perf_counter() - start) * 1000
    ctx = name_context(spec, order=order_number, item=item_index, qty=quantity)
    files = production_files(scene, spec, kerf_mm=kerf_mm, names=ctx, pattern=name_pattern, timings=timings)
    files += markup_pack_files(issues)  # the thin-stroke check's marked-up image, when it found some
    product = spec.product
    manifest_meta: dict[str, Any] = {
        **(meta or {}),
        "order_id": order_id,
        "order_item_id": order_item_id,
        "order_number": order_number,
        "spec_hash": scene.spec_hash,
        "quantity": quantity,
        "kerf_mm": kerf_mm,
        "production_method": product.production_method,
        "product": {
            "id": product.id,
            "sku": product.sku,
            "name": product.name,
            "width_mm": product.width_mm,
            "height_mm": product.height_mm,
            "shape": product.shape,
            "color_mode": product.color_mode,
            "output_dpi": product.output_dpi,
            "bleed_mm": product.bleed_mm,
            "crop_marks": product.crop_marks,
        },
        "print_checks": [issue_dict(i) for i in issues],
    }
    if item_index is not None:
        manifest_meta["item_index"] = item_index
    if name_pattern:
        manifest_meta["file_name_pattern"] = name_pattern
    start = time.perf_counter()
    data, manifest = build_pack(files, manifest_meta)
    timings["zip"] = (time.perf_counter() - start) * 1000
    measured = {f["name"]: f for f in manifest["files"]}
    files = [
        replace(f, width_mm=m["width_mm"], height_mm=m["height_mm"], dpi=m["dpi"])
        for f in files
        for m in [measured[f.name]]
    ]
    return BuiltPack(data=data, manifest=manifest, files=files, issues=issues, timings_ms=timings)
