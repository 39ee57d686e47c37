"""Email previews (issue 17 item 6): every transactional email Luneo sends for the brand, in
English and French, rendered with sample data and the brand's own logo and colours.

The HTML part is shown in a sandboxed iframe (`srcdoc`, no scripts, no same-origin), the text
part beside it. Readable with `brand:read` (the brand settings), like the API's brand settings.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.notifications import public as notifications
from luneo.tenancy import public as tenancy

EmailsPage = Annotated[Page, page_dep("brand:read", write=False)]

BASE = "/dashboard/emails"


def _titles(page: Page) -> dict[str, tuple[str, str]]:
    """Each email's name and moment, in the page's language."""
    _ = page.gettext
    return {
        "order_confirmation": (_("Order confirmation"), _("An order is paid.")),
        "order_shipped": (
            _("Order shipped"),
            _("An order moves to shipped (with its tracking number and carrier when given)."),
        ),
        "production_error": (
            _("Production error"),
            _("A production pack cannot be made, or print checks block a work order."),
        ),
        "render_ready": (_("Render ready"), _("A final render someone asked for is ready.")),
        "low_credits": (_("Low credits"), _("The AI credit balance falls under a fifth of the last top-up.")),
        "invitation": (_("Invitation"), _("Someone is invited to join the brand.")),
        "email_verification": (
            _("Email verification"),
            _("Someone signs up and must confirm their address."),
        ),
        "password_reset": (_("Password reset"), _("Someone asks for a new password.")),
    }


@router.get("/emails")
def emails_page(
    page: EmailsPage,
    template: Annotated[str, Query(max_length=64)] = "order_confirmation",
    lang: Annotated[str, Query(max_length=8, alias="email_lang")] = "",
) -> Response:
    """The list of emails and the preview of one, in English or French (`email_lang`)."""
    spec = notifications.email_spec(template) or notifications.EMAILS[0]
    email_lang = lang if lang in notifications.EMAIL_LANGUAGES else page.locale
    brand = page.session.get(tenancy.Brand, page.brand_id)  # the guard's brand-bound session
    rendered = notifications.preview_email(spec.template, spec.sample, brand, lang=email_lang)
    titles = _titles(page)
    return page.render(
        "emails/index.html",
        emails=[(e, *titles.get(e.template, (e.title, e.moment))) for e in notifications.EMAILS],
        current=spec,
        current_title=titles.get(spec.template, (spec.title, spec.moment))[0],
        email_lang=email_lang,
        languages=(("en", "English"), ("fr", "Français")),
        rendered=rendered,
        base=BASE,
    )
