"""Root routes: the public share page of a saved design (`/d/{token}`) and its preview image.

A human page, server-rendered (Jinja2, autoescaped), in English or French (`?lang=` or the
browser's `Accept-Language`, negotiated with Babel), with Open Graph tags whose `og:image` is
the absolute URL of the design's preview — the design on the product (the mockup, rendered as
the widget's mockup view) when the product has one, with its pixel size. An unknown or revoked
token answers a 404 page.
"""

from __future__ import annotations

from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from luneo.designs import public as designs
from luneo.platform.config import get_settings
from luneo.platform.domain_errors import NotFoundError
from luneo.platform.languages import best_language

router = APIRouter(include_in_schema=False)
_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "shared_design": "Shared design",
        "personalization": "Personalization",
        "no_text": "No text in this design.",
        "image_alt": "Preview of “{name}” on the {product}",
        "description": "{product} personalized: {texts}",
        "description_empty": "A personalized {product}",
        "saved_on": "Saved on {date}",
        "not_found_title": "Design not found",
        "not_found_body": "This link is unknown, or its owner turned it off.",
        "language": "Language",
    },
    "fr": {
        "shared_design": "Création partagée",
        "personalization": "Personnalisation",
        "no_text": "Aucun texte dans cette création.",
        "image_alt": "Aperçu de « {name} » sur le produit {product}",
        "description": "{product} personnalisé : {texts}",
        "description_empty": "{product} personnalisé",
        "saved_on": "Enregistrée le {date}",
        "not_found_title": "Création introuvable",
        "not_found_body": "Ce lien est inconnu, ou son propriétaire l’a désactivé.",
        "language": "Langue",
    },
}
LANGUAGES = (("en", "English"), ("fr", "Français"))
OG_LOCALES = {"en": "en_US", "fr": "fr_FR"}


def page_locale(request: Request) -> str:
    """`?lang=` when it names a catalogue, else the best match of `Accept-Language`, else English."""
    asked = request.query_params.get("lang", "")
    if asked in MESSAGES:
        return asked
    return best_language(request.headers.get("accept-language"), MESSAGES)


def _render(request: Request, token: str, view: designs.SharedView | None) -> HTMLResponse:
    lang = page_locale(request)
    m = MESSAGES[lang]
    base = get_settings().public_base_url.rstrip("/")
    context: dict[str, object] = {"lang": lang, "m": m, "languages": LANGUAGES, "view": view}
    if view is None:
        context["title"] = m["not_found_title"]
        status = 404
    else:
        texts = " · ".join(text.replace("\n", " ") for _, text in view.texts)
        try:
            when = format_date(view.created_at, format="long", locale=Locale.parse(lang))
        except UnknownLocaleError:  # pragma: no cover - both catalogues are Babel locales
            when = view.created_at.date().isoformat()
        context |= {
            "title": f"{view.name} — {view.product_name}",
            "description": (m["description"] if texts else m["description_empty"]).format(
                product=view.product_name, texts=texts[:200]
            ),
            "image_url": f"{base}/d/{token}/image.png",
            "image_size": view.image_size,
            "image_alt": m["image_alt"].format(name=view.name, product=view.product_name),
            "page_url": f"{base}/d/{token}",
            "og_locale": OG_LOCALES[lang],
            "saved_on": m["saved_on"].format(date=when),
        }
        status = 200
    html = _env.get_template("shared_design.html").render(**context)
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Cache-Control": "no-cache",
            "Content-Language": lang,
            "Vary": "Accept-Language",
            "X-Robots-Tag": "noindex",
        },
    )


def _view(token: str) -> designs.SharedView | None:
    try:
        return designs.shared_view(token)
    except NotFoundError:
        return None


@router.get("/d/{token}", response_class=HTMLResponse)
async def shared_design_page(token: str, request: Request) -> HTMLResponse:
    """The share page of a saved design (404 page for an unknown or revoked link)."""
    view = await run_in_threadpool(_view, token)
    return _render(request, token, view)


@router.get("/d/{token}/image.png")
async def shared_design_image(token: str, request: Request) -> Response:
    """The shared design's preview (PNG, on the product mockup when there is one)."""
    try:
        data = await run_in_threadpool(designs.shared_image, token)
    except NotFoundError:
        return _render(request, token, None)
    return Response(data, media_type="image/png", headers={"Cache-Control": "public, max-age=300"})
