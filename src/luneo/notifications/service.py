"""Email use cases: queue a templated email for a brand, render it, deliver it.

A template is two files in `templates/`: `<name>.html.j2` (extends `_base.html.j2`) and
`<name>.txt.j2` (extends `_base.txt.j2` and defines `{% block subject %}`). Both see the
caller's context plus `brand` (name, primary_color, on_primary_color, logo_url, language),
`lang` and `unsubscribe_url` (None on essential emails). Their words are `{% trans %}` /
`_()` messages translated by `locales/<lang>/LC_MESSAGES/emails.po` (`luneo.notifications.i18n`).

The language is chosen at queueing time and kept in the row's context: the caller's `lang`
(the recipient's or the order's shopper locale), else the brand's `settings.language`, else English.
Non-essential emails (`OPT_OUT_CATEGORIES`: low credits, render ready) carry `List-Unsubscribe`
+ `List-Unsubscribe-Post` (RFC 8058) and are not queued for a recipient who opted out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.runtime
import markupsafe
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from luneo.notifications import i18n
from luneo.notifications.error_codes import NotificationsErrorCode
from luneo.notifications.models import EmailMessage
from luneo.notifications.senders import OutgoingEmail, from_address
from luneo.notifications.unsubscribe import is_opted_out, list_unsubscribe_headers, unsubscribe_url
from luneo.platform import jobs
from luneo.platform.config import Settings, get_settings
from luneo.platform.domain_errors import DomainError, NotFoundError
from luneo.tenancy.public import Brand

TEMPLATES_DIR = Path(__file__).parent / "templates"
SEND_ACTOR = "send_email"
DEFAULT_PRIMARY = "#111827"
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class _PrintStrictUndefined(jinja2.Undefined):
    """Missing variables are falsy in `{% if %}` but an error when printed."""

    def __str__(self) -> str:
        self._fail_with_undefined_error()
        return ""


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=_PrintStrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.policies["ext.i18n.trimmed"] = True
    env.newstyle_gettext = True  # type: ignore[attr-defined]  # `{% trans %}` → gettext(msg, **values)
    return env


def available_templates() -> list[str]:
    """Templates that have both an HTML and a text part."""
    names = {p.name[: -len(".html.j2")] for p in TEMPLATES_DIR.glob("*.html.j2")}
    return sorted(n for n in names if not n.startswith("_") and (TEMPLATES_DIR / f"{n}.txt.j2").exists())


def _on_colour(hex_colour: str) -> str:
    """Black or white text, whichever reads better on `hex_colour` (WCAG relative luminance)."""
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "#000000" if luminance > 0.179 else "#ffffff"


def brand_theme(brand: Brand) -> dict[str, Any]:
    """What templates may know about the brand (colours validated: no CSS injection)."""
    settings = brand.settings or {}
    primary = str(settings.get("primary_color") or "")
    primary = primary if _HEX.match(primary) else DEFAULT_PRIMARY
    logo = settings.get("logo_url")
    return {
        "id": brand.id,
        "name": brand.name,
        "primary_color": primary,
        "on_primary_color": _on_colour(primary),
        "logo_url": logo if isinstance(logo, str) and logo.startswith("https://") else None,
        "language": str(settings.get("language") or "en")[:8],
    }


def email_language(context: dict[str, Any], brand: Brand) -> str:
    """`en` or `fr`: the context's `lang` (or `locale`), else the brand's language, else English."""
    settings = brand.settings or {}
    return i18n.pick_language(
        context.get("lang"), context.get("locale"), settings.get("language"), settings.get("locale")
    )


def render_email(
    template: str, context: dict[str, Any], brand: Brand, *, unsubscribe: str | None = None
) -> RenderedEmail:
    """Render subject, text and HTML parts of `template` for `brand`, in the context's language
    (`email_language`), with the unsubscribe link `unsubscribe` in the footer when given."""
    if template not in available_templates():
        raise DomainError(
            NotificationsErrorCode.UNKNOWN_EMAIL_TEMPLATE,
            f"no email template named {template!r}",
            available=available_templates(),
        )
    lang = email_language(context, brand)
    translations = i18n.translations(lang)
    env = _env()
    variables = {
        **context,
        "lang": lang,
        "brand": {**brand_theme(brand), "language": lang},
        "unsubscribe_url": unsubscribe,
        # Per render (not installed on the shared environment): safe across threads.
        "gettext": _newstyle(translations.gettext),
        "_": _newstyle(translations.gettext),
        "ngettext": _newstyle_n(translations.ngettext),
    }
    text_tpl = env.get_template(f"{template}.txt.j2")
    html_tpl = env.get_template(f"{template}.html.j2")
    subject_block = text_tpl.blocks.get("subject")
    if subject_block is None:
        raise DomainError(
            NotificationsErrorCode.EMAIL_TEMPLATE_WITHOUT_SUBJECT,
            f"{template}.txt.j2 defines no subject block",
        )
    subject = "".join(subject_block(text_tpl.new_context(variables))).strip()
    subject = " ".join(subject.split())  # one line, no header injection
    text = text_tpl.render(variables).strip() + "\n"
    html = html_tpl.render(variables)
    return RenderedEmail(subject=subject, text=text, html=html)


def _newstyle(gettext: Any) -> Any:
    """`_("Hello %(name)s", name=x)`: Jinja's new-style gettext, escaping the values in HTML."""

    @jinja2.pass_context
    def _gettext(ctx: jinja2.runtime.Context, message: str, **values: Any) -> str:
        text = gettext(message)
        if ctx.eval_ctx.autoescape:
            text = markupsafe.Markup(text)
        return text % values  # type: ignore[no-any-return]

    return _gettext


def _newstyle_n(ngettext: Any) -> Any:
    @jinja2.pass_context
    def _ngettext(ctx: jinja2.runtime.Context, singular: str, plural: str, num: int, **values: Any) -> str:
        values.setdefault("num", num)
        text = ngettext(singular, plural, num)
        if ctx.eval_ctx.autoescape:
            text = markupsafe.Markup(text)
        return text % values  # type: ignore[no-any-return]

    return _ngettext


def normalize_address(to: str) -> str:
    try:
        return str(validate_email(to, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise DomainError(NotificationsErrorCode.INVALID_EMAIL, f"invalid email address: {exc}") from None


def queue_email(
    session: Session,
    brand_id: str,
    to: str,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    lang: str | None = None,
) -> EmailMessage | None:
    """Write an outbox row and enqueue its `send_email` job (dispatched after commit, so a failing
    send never rolls back the change that queued it); None when the recipient opted out of this
    non-essential email. `lang` (else the context's `lang`) is the recipient's language when known.

    The session must be bound to `brand_id` (or be system work).
    """
    import luneo.notifications.tasks  # noqa: F401  (registers the send_email actor)

    brand = session.get(Brand, brand_id)
    if brand is None:
        raise NotFoundError("brand", brand_id)
    address = normalize_address(to)
    if is_opted_out(session, brand_id, address, template):
        return None
    ctx = jobs.jsonable(context or {})
    ctx["lang"] = email_language({**ctx, "lang": lang or ctx.get("lang")}, brand)
    rendered = render_email(template, ctx, brand)  # fails now, not in the worker, on bad input
    message = EmailMessage(
        brand_id=brand_id,
        to=address,
        template=template,
        context=ctx,
        subject=rendered.subject,
        status="queued",
        attempts=0,
    )
    session.add(message)
    session.flush()
    jobs.enqueue(
        session, SEND_ACTOR, f"{SEND_ACTOR}:{message.id}", {"message_id": message.id}, brand_id=brand_id
    )
    return message


def outgoing_email(message: EmailMessage, brand: Brand, settings: Settings) -> OutgoingEmail:
    """The rendered, addressed email for an outbox row (with `List-Unsubscribe` when non-essential)."""
    link = unsubscribe_url(settings, message.brand_id, message.to, message.template)
    rendered = render_email(message.template, message.context or {}, brand, unsubscribe=link)
    _, from_addr = from_address(settings)
    reply_to = (brand.settings or {}).get("reply_to")
    if reply_to:
        try:
            reply_to = normalize_address(str(reply_to))
        except DomainError:
            reply_to = None
    return OutgoingEmail(
        message_id=message.id,
        from_name=brand.name,
        from_addr=from_addr,
        to=message.to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        reply_to=reply_to,
        headers=list_unsubscribe_headers(link),
    )


def preview_email(
    template: str, context: dict[str, Any], brand: Brand, *, lang: str, settings: Settings | None = None
) -> RenderedEmail:
    """`template` rendered in `lang` for `brand` as it would be sent (sample unsubscribe link on a
    non-essential email): the dashboard's preview."""
    link = unsubscribe_url(settings or get_settings(), brand.id, "preview@example.com", template)
    return render_email(template, {**context, "lang": lang}, brand, unsubscribe=link)
