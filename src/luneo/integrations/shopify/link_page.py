"""The embedded app's link page (a shop with no Luneo brand yet), in English or French.

Words come from `locales/<lang>/LC_MESSAGES/*.po` (English is the source), through Jinja2's i18n
extension; the language is the one the Shopify admin passes (`locale`), else the browser's.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from luneo.platform.languages import best_language, po_translations

LOCALES_DIR = Path(__file__).parent / "locales"
TEMPLATES_DIR = Path(__file__).parent / "templates"
SUPPORTED: tuple[str, ...] = ("en", "fr")


def language(shopify_locale: str | None, accept_language: str | None) -> str:
    """`fr` or `en`: the admin's `locale` (`fr`, `fr-CA`), else `Accept-Language`, else English."""
    code = (shopify_locale or "").strip().replace("_", "-").split("-")[0].lower()
    return code if code in SUPPORTED else best_language(accept_language, SUPPORTED)


@lru_cache(maxsize=len(SUPPORTED))
def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(po_translations(LOCALES_DIR, lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def render(shop: str, ticket: str, lang: str, error: str | None = None) -> str:
    """The link page: create a new brand for the shop, or sign in to link one you administer."""
    template = _environment(lang).get_template("link.html")
    return template.render(shop=shop, ticket=ticket, lang=lang, error=error)
