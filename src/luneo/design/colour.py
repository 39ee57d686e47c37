"""Colour management: embedded ICC profiles in, sRGB for screens, CMYK through a real press profile.

Uploads carry their own colour space (Adobe RGB from cameras, Display P3 from phones, CMYK JPEGs
from print designers). `to_srgb` converts them with their embedded profile (LittleCMS through
Pillow's ImageCms) to sRGB, the space every preview and RGB output is in; an untagged image is
taken as sRGB, an untagged CMYK image as the coated press condition below.

CMYK output goes through an output profile shipped in `luneo/design/icc/` (see its NOTICE):
`coated` (FOGRA39L, ISO 12647-2 coated offset) or `uncoated` (FOGRA29L), with relative
colorimetric intent (solid colours, the default) or perceptual (photos), and black-point
compensation. ΔE2000 (`delta_e2000`) measures the result.
"""

from __future__ import annotations

import hashlib
import io
import threading
from functools import lru_cache
from importlib import resources
from typing import Literal

import numpy as np
from PIL import Image, ImageCms

CmykProfile = Literal["coated", "uncoated"]
Intent = Literal["relative", "perceptual"]

CMYK_PROFILES: dict[str, str] = {
    "coated": "luneo_coated_fogra39l.icc",
    "uncoated": "luneo_uncoated_fogra29l.icc",
}
# Output condition identifiers (ICC characterization data registry) for the PDF/X OutputIntent.
OUTPUT_CONDITIONS: dict[str, tuple[str, str]] = {
    "coated": ("FOGRA39", "Coated FOGRA39 (ISO 12647-2:2004/Amd 1, paper type 1 or 2)"),
    "uncoated": ("FOGRA29", "Uncoated FOGRA29 (ISO 12647-2:2004/Amd 1, paper type 4)"),
}
DEFAULT_CMYK_PROFILE: CmykProfile = "coated"

_INTENTS = {
    "relative": ImageCms.Intent.RELATIVE_COLORIMETRIC,
    "perceptual": ImageCms.Intent.PERCEPTUAL,
}
_BPC = ImageCms.Flags.BLACKPOINTCOMPENSATION
_LOCK = threading.Lock()


# ---------------------------------------------------------------- profiles


def cmyk_profile_bytes(name: str = DEFAULT_CMYK_PROFILE) -> bytes:
    """The ICC bytes of a shipped CMYK output profile (`coated` / `uncoated`)."""
    if name not in CMYK_PROFILES:
        raise ValueError(f"unknown CMYK profile {name!r} (expected one of {sorted(CMYK_PROFILES)})")
    return _read_icc(CMYK_PROFILES[name])


@lru_cache(maxsize=8)
def _read_icc(filename: str) -> bytes:
    return resources.files("luneo.design").joinpath("icc", filename).read_bytes()


@lru_cache(maxsize=32)
def _profile(icc: bytes) -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(io.BytesIO(icc))


@lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@lru_cache(maxsize=1)
def _lab() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB", 5000))


def _cmyk(name: str) -> ImageCms.ImageCmsProfile:
    return _profile(cmyk_profile_bytes(name))


def _key(icc: bytes) -> str:
    return hashlib.blake2b(icc, digest_size=16).hexdigest()


_transforms: dict[tuple[str, str, str, str, str, bool], ImageCms.ImageCmsTransform] = {}


def _transform(
    src: ImageCms.ImageCmsProfile,
    src_key: str,
    dst: ImageCms.ImageCmsProfile,
    dst_key: str,
    in_mode: str,
    out_mode: str,
    intent: Intent = "relative",
    bpc: bool = True,
) -> ImageCms.ImageCmsTransform:
    """A cached LittleCMS transform (building one costs far more than applying it)."""
    key = (src_key, dst_key, in_mode, out_mode, intent, bpc)
    with _LOCK:
        t = _transforms.get(key)
        if t is None:
            t = ImageCms.buildTransform(
                src,
                dst,
                in_mode,
                out_mode,
                renderingIntent=_INTENTS[intent],
                flags=_BPC if bpc else ImageCms.Flags.NONE,
            )
            if len(_transforms) > 64:
                _transforms.clear()
            _transforms[key] = t
    return t


def _is_srgb(icc: bytes) -> bool:
    """Whether an embedded profile is (a flavour of) sRGB: no conversion needed."""
    try:
        desc = ImageCms.getProfileDescription(_profile(icc)) or ""
    except (OSError, ImageCms.PyCMSError):
        return False
    return "srgb" in desc.lower().replace(" ", "").replace("-", "")


# ---------------------------------------------------------------- uploads → sRGB


def to_srgb(img: Image.Image, intent: Intent = "relative") -> Image.Image:
    """`img` in sRGB ("RGB", or "RGBA" when it has alpha) using its embedded ICC profile.

    CMYK without a profile is read as the coated press condition; a broken profile falls back to
    Pillow's plain conversion (the image is still usable).
    """
    icc = img.info.get("icc_profile") or b""
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if img.mode == "CMYK":
        src_icc = icc or cmyk_profile_bytes(DEFAULT_CMYK_PROFILE)
        return _apply(img, src_icc, "CMYK", intent) or img.convert("RGB")
    if not icc or _is_srgb(icc):
        return img.convert("RGBA" if has_alpha else "RGB")
    if img.mode in ("L", "LA", "I", "I;16", "F"):  # grey profiles: a grey stays neutral; keep it simple
        return img.convert("RGBA" if has_alpha else "RGB")
    rgba = img.convert("RGBA" if has_alpha else "RGB")
    rgb = rgba.convert("RGB") if has_alpha else rgba
    out = _apply(rgb, icc, "RGB", intent)
    if out is None:
        return rgba
    if has_alpha:
        out.putalpha(rgba.getchannel("A"))
    return out


def _apply(img: Image.Image, icc: bytes, mode: str, intent: Intent) -> Image.Image | None:
    try:
        src = _profile(icc)
        if ImageCms.getProfileInfo(src) is None:  # pragma: no cover - defensive
            return None
        # No black-point compensation: sRGB's black is deeper than any print's, so the source
        # colours land where they are (BPC would darken a CMYK photo's shadows).
        t = _transform(src, _key(icc), _srgb(), "srgb", mode, "RGB", intent, bpc=False)
        return t.apply(img.convert(mode))
    except (OSError, ImageCms.PyCMSError, ValueError):
        return None


# ---------------------------------------------------------------- sRGB → CMYK (press)


def srgb_image_to_cmyk(
    img: Image.Image,
    profile: str = DEFAULT_CMYK_PROFILE,
    intent: Intent = "perceptual",
    background: tuple[int, int, int] = (255, 255, 255),
) -> Image.Image:
    """An sRGB image (alpha flattened over `background`) as CMYK through the output profile."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (*background, 255))
        base.alpha_composite(rgba)
        rgb = base.convert("RGB")
    else:
        rgb = img.convert("RGB")
    t = _transform(_srgb(), "srgb", _cmyk(profile), profile, "RGB", "CMYK", intent)
    return t.apply(rgb)


@lru_cache(maxsize=4096)
def srgb_to_cmyk(
    r: float, g: float, b: float, profile: str = DEFAULT_CMYK_PROFILE, intent: Intent = "relative"
) -> tuple[float, float, float, float]:
    """One sRGB colour (0..1) → CMYK (0..1) through the output profile (solid colours: relative)."""
    px = Image.new("RGB", (1, 1), tuple(round(v * 255) for v in (r, g, b)))
    t = _transform(_srgb(), "srgb", _cmyk(profile), profile, "RGB", "CMYK", intent)
    c, m, y, k = t.apply(px).getpixel((0, 0))  # type: ignore[misc]
    return (c / 255.0, m / 255.0, y / 255.0, k / 255.0)


# ---------------------------------------------------------------- measurement (Lab, ΔE2000)


def to_lab(img: Image.Image, icc: bytes | None = None, mode: str | None = None) -> np.ndarray:
    """CIELAB (D50, float array h×w×3) of an image's pixels interpreted in `icc`.

    `icc=None` means sRGB for RGB images and the coated press profile for CMYK images.
    Relative colorimetric, as a proofing measurement does.
    """
    mode = mode or img.mode
    if icc is None:
        src, key = (
            (_cmyk(DEFAULT_CMYK_PROFILE), DEFAULT_CMYK_PROFILE) if mode == "CMYK" else (_srgb(), "srgb")
        )
    else:
        src, key = _profile(icc), _key(icc)
    t = _transform(src, key, _lab(), "lab", mode, "LAB", "relative", bpc=False)
    raw = np.asarray(t.apply(img.convert(mode)), dtype=np.uint8)
    out = np.empty(raw.shape, dtype=np.float64)
    out[..., 0] = raw[..., 0] * (100.0 / 255.0)
    out[..., 1:] = raw[..., 1:].view(np.int8)  # Pillow's LAB mode stores a, b as signed bytes
    return out


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (kL = kC = kH = 1) between Lab arrays (..., 3).

    Implements G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula:
    implementation notes, supplementary test data, and mathematical observations", Color Research
    & Application 30(1), 2005, eqs. (1)-(24); checked against the paper's 34 test pairs (Table 1)
    in tests/unit/design/test_colour_management.py.
    """
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c1 = np.hypot(a1, b1)
    c2 = np.hypot(a2, b2)
    cbar7 = ((c1 + c2) / 2.0) ** 7
    g = 0.5 * (1.0 - np.sqrt(cbar7 / (cbar7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.where((a1p == 0) & (b1 == 0), 0.0, np.degrees(np.arctan2(b1, a1p)) % 360.0)
    h2p = np.where((a2p == 0) & (b2 == 0), 0.0, np.degrees(np.arctan2(b2, a2p)) % 360.0)
    dlp = l2 - l1
    dcp = c2p - c1p
    dh = h2p - h1p
    zero = (c1p * c2p) == 0
    dh = np.where(zero, 0.0, np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh)))
    dhp = 2.0 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2.0))
    lbp = (l1 + l2) / 2.0
    cbp = (c1p + c2p) / 2.0
    hsum = h1p + h2p
    hbp = np.where(
        zero,
        hsum,
        np.where(
            np.abs(h1p - h2p) <= 180, hsum / 2.0, np.where(hsum < 360, (hsum + 360) / 2.0, (hsum - 360) / 2.0)
        ),
    )
    t = (
        1.0
        - 0.17 * np.cos(np.radians(hbp - 30))
        + 0.24 * np.cos(np.radians(2 * hbp))
        + 0.32 * np.cos(np.radians(3 * hbp + 6))
        - 0.20 * np.cos(np.radians(4 * hbp - 63))
    )
    dtheta = 30.0 * np.exp(-(((hbp - 275.0) / 25.0) ** 2))
    cbp7 = cbp**7
    rc = 2.0 * np.sqrt(cbp7 / (cbp7 + 25.0**7))
    sl = 1.0 + 0.015 * (lbp - 50.0) ** 2 / np.sqrt(20.0 + (lbp - 50.0) ** 2)
    sc = 1.0 + 0.045 * cbp
    sh = 1.0 + 0.015 * cbp * t
    rt = -np.sin(np.radians(2.0 * dtheta)) * rc
    return np.sqrt((dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp / sh) ** 2 + rt * (dcp / sc) * (dhp / sh))
