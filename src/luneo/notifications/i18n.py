"""Languages of the emails: English (the source) and French, from a Babel PO catalogue.

`locales/fr/LC_MESSAGES/emails.po` holds the French of every `{% trans %}` / `_()` of the email
templates; it is compiled in memory at first use (Babel's PO reader and MO writer), so nothing is
built. `scripts/emails_i18n.py`-style extraction: `extract()` lists every message of the templates,
and a unit test fails while one has no French translation.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.support import NullTranslations

from luneo.platform.languages import po_translations

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
    return po_translations(LOCALES_DIR, lang)


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
