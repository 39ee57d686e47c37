"""Languages of the dashboard: gettext catalogues (PO files read with Babel) and locale formatting.

Messages live in `locales/<lang>/LC_MESSAGES/*.po` (English is the source language, so it
needs none). They are compiled in memory at first use with Babel's own PO reader and MO writer,
so `make run` has nothing to build. Extract new messages with
`pybabel extract -F babel.cfg -o messages.pot src/luneo/dashboard` and update the PO files.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import NullTranslations
from fastapi import Request

from luneo.platform.languages import best_language, po_translations

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES: tuple[tuple[str, str], ...] = (("en", "English"), ("fr", "Français"))
SUPPORTED = tuple(code for code, _ in LANGUAGES)
LANG_COOKIE = "luneo_lang"


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """The gettext translations of `locale` (a no-op for English or an unknown locale).

    Every `*.po` file of the locale's folder is read (one per dashboard area: `messages.po`,
    `orders.po`, …) and merged into one catalogue.
    """
    return po_translations(LOCALES_DIR, locale)


def negotiate(request: Request) -> str:
    """`?lang=`, else the language cookie, else the best match of `Accept-Language`, else English."""
    for asked in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if asked in SUPPORTED:
            return asked
    return best_language(request.headers.get("accept-language"), SUPPORTED)


def money(amount_minor: int | None, currency: str, locale: str) -> str:
    """Integer minor units as the locale writes money (`1 234,50 €`, `¥1,235`): Babel knows each
    currency's number of decimals."""
    if amount_minor is None:
        return "—"
    digits = get_currency_precision(currency.upper())
    return format_currency(amount_minor / (10**digits), currency.upper(), locale=locale)


def number(value: float | int, locale: str) -> str:
    """A number in the locale's digits grouping."""
    return format_decimal(value, locale=locale)


def when(value: datetime | None, locale: str, fmt: str = "medium") -> str:
    """A UTC timestamp in the locale's format (shown in UTC: the dashboard says so in its footer)."""
    if value is None:
        return "—"
    return babel_datetime(value, format=fmt, locale=locale, tzinfo=None)
