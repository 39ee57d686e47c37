"""Languages of the emails: English (the source) and French, from a Babel PO catalogue.

`locales/fr/LC_MESSAGES/emails.po` holds the French of every `{% trans %}` / `_()` of the email
templates; it is compiled in memory at first use (Babel's PO reader and MO writer), so nothing is
built. `scripts/emails_i18n.py`-style extraction: `extract()` lists every message of the templates,
and a unit test fails while one has no French translation.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).parent / "locales"
TEMPLATES_DIR = Path(__file__).parent / "templates"
SUPPORTED: tuple[str, ...] = ("en", "fr")
DEFAULT = "en"


def pick_language(*candidates: object) -> str:
    """The first candidate that names a supported language (`fr`, `fr-CA`, `FR_fr` → `fr`), else English."""
    for value in candidates:
        if not isinstance(value, str) or not value:
            continue
        code = value.strip().replace("_", "-").split("-")[0].lower()
        if code in SUPPORTED:
            return code
    return DEFAULT


@lru_cache(maxsize=4)
def translations(lang: str) -> NullTranslations:
    """The gettext catalogue of `lang` (a no-op for English or a language without PO files)."""
    files = sorted((LOCALES_DIR / lang / "LC_MESSAGES").glob("*.po"))
    merged: Translations | None = None
    for po in files:
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


def extract() -> Catalog:
    """Every translatable message of the email templates (Babel's Jinja2 extractor)."""
    method_map = [("**.j2", "jinja2")]
    options_map = {"**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    catalog = Catalog(project="luneo-emails")
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    for filename, lineno, message, comments, context in extract_from_dir(
        TEMPLATES_DIR, method_map, options_map, keywords=keywords
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog
