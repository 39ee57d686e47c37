"""Jinja2 for the dashboard: one autoescaping environment per language, with that language's
gettext catalogue (`{{ _("…") }}`, `{% trans %}`) and locale filters (`money`, `when`, `number`)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from luneo.dashboard import i18n
from luneo.platform.config import get_settings

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


@lru_cache(maxsize=64)
def static_url(name: str) -> str:
    """`/dashboard/static/<name>?v=<content hash>`: cached for a year, refreshed when it changes."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]
    return f"/dashboard/static/{name}?v={digest}"


@lru_cache(maxsize=len(i18n.SUPPORTED))
def environment(locale: str) -> Environment:
    """The template environment of one language (built once)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(static=static_url, languages=i18n.LANGUAGES, locale=locale)
    env.globals["support_settings"] = get_settings  # help links: Crisp id, support email
    env.filters["money"] = lambda minor, currency: i18n.money(minor, currency, locale)
    env.filters["when"] = lambda value, fmt="medium": i18n.when(value, locale, fmt)
    env.filters["number"] = lambda value: i18n.number(value, locale)
    return env


def render(locale: str, name: str, context: dict[str, Any]) -> str:
    """Render template `name` in `locale`."""
    return environment(locale).get_template(name).render(context)
