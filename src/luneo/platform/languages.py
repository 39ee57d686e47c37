"""Which of our languages a browser prefers: `Accept-Language` negotiated with Babel."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

#: Longest `Accept-Language` header read (anything longer is cut: bounded work on bad input).
MAX_HEADER = 500


def best_language(accept_language: str | None, available: Iterable[str], default: str = "en") -> str:
    """The best of `available` for an `Accept-Language` header (quality weights honoured,
    `q=0` and malformed weights ignored), else `default`."""
    preferred: list[tuple[float, str]] = []
    for part in (accept_language or "")[:MAX_HEADER].split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        if tag and weight > 0:
            preferred.append((weight, tag.replace("-", "_")))
    ordered = [tag for _, tag in sorted(preferred, key=lambda p: -p[0])]
    return negotiate_locale(ordered, list(available)) or default


def po_translations(locales_dir: Path, lang: str) -> NullTranslations:
    """Every `<locales_dir>/<lang>/LC_MESSAGES/*.po` (one per area) compiled in memory with Babel's
    PO reader and MO writer and merged into one gettext catalogue, so nothing is built by
    `make run`; a no-op catalogue for a language without PO files (English, the source)."""
    merged: Translations | None = None
    for po in sorted((locales_dir / lang / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        part = Translations(fp=buf)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged if merged is not None else NullTranslations()
