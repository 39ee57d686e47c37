"""Production packs: deterministic ZIPs with a `manifest.json`.

A pack holds one ordered item's files; a bundle holds every pack of an order. Both are
byte-stable: entries are written in a fixed order (manifest first, then names sorted), with a
1980-01-01 timestamp, 0644 permissions, Unix "made by", deflate level 9 and no extra fields or
comments. The manifest is canonical JSON (sorted keys, indent 2, UTF-8, trailing newline).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

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


def build_pack(files: list[PackFile], manifest_meta: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """ZIP bytes and the manifest dict for one item's production files.

    `manifest_meta` (order_id, item_id, snapshot_id, spec_hash, product, quantity,
    production_method, ...) is copied under "meta"; each file is listed with name, sha256,
    bytes, media_type, width_mm, height_mm and dpi (null for vector files).
    """
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


def build_bundle(packs: list[tuple[str, bytes]], meta: dict[str, Any]) -> bytes:
    """A per-order ZIP: each item's pack as `items/<name>.zip` (stored as is) plus an order manifest.

    `packs` pairs a name (e.g. the item id) with that item's pack bytes; `meta` (order id,
    brand, ...) goes under "meta"; the manifest lists each pack's path, sha256 and size.
    """
    seen: set[str] = set()
    for name, _ in packs:
        _check_name(name)
        if "/" in name or name in seen:
            raise ValueError(f"invalid or duplicate pack name: {name!r}")
        seen.add(name)
    ordered = sorted(packs, key=lambda p: p[0])
    manifest = {
        "format": BUNDLE_FORMAT,
        "meta": dict(meta),
        "items": [
            {"name": name, "path": f"items/{name}.zip", "sha256": sha256_hex(data), "bytes": len(data)}
            for name, data in ordered
        ],
    }
    entries = [(MANIFEST_NAME, canonical_json(manifest), zipfile.ZIP_DEFLATED)]
    entries += [(f"items/{name}.zip", data, zipfile.ZIP_STORED) for name, data in ordered]
    return _zip(entries)
