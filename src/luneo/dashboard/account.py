"""Dashboard account pages: sign-up, email verification, password reset, the no-brand welcome
page, and the home page's onboarding checklist and key figures.

Every use case is a tenancy public function (one transaction each); this module only parses
forms, rate-limits the forms a stranger can send (per client IP, `limits` in Redis when
configured, else in this process), and renders. Email verification and reset links are
single-use, expiring, hashed tokens (`user_tokens`); the forgot-password form answers the same
whether or not the address has an account.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Form
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from luneo.analytics import public as analytics
from luneo.catalog import public as catalog
from luneo.commerce import public as commerce
from luneo.credits import public as credits
from luneo.dashboard import session
from luneo.dashboard.guard import Page, page_dep, public_page
from luneo.dashboard.pages import router
from luneo.platform.clock import utcnow
from luneo.platform.config import get_settings
from luneo.platform.database import get_db
from luneo.platform.domain_errors import DomainError
from luneo.platform.middleware import client_ip
from luneo.platform.tenancy import bind_system
from luneo.tenancy import public as tenancy

PublicPage = Annotated[Page, Depends(public_page)]
HomePage = Annotated[Page, page_dep("brand:read")]
ResendPage = Annotated[Page, page_dep("brand:read", write=True)]

#: Per client IP (sign-up, forgotten password) or per person (resending the verification link).
SIGNUP_LIMIT = "10/hour"
FORGOT_LIMIT = "10/hour"
RESEND_LIMIT = "3/hour"

# --- rate limits ---------------------------------------------------------------------------------


def retry_after(page: Page, bucket: str, rate: str, ident: str | None = None) -> int | None:
    """Count one `bucket` attempt for `ident` (default: the client IP); the seconds to wait when
    over `rate`, else None (the catalog's windowed counter: Redis, or this application's memory)."""
    ident = ident or client_ip(page.request.scope)
    wait = catalog.window_wait(page.request, rate, "dashboard-account", bucket, ident)
    return None if wait is None else math.ceil(wait)


def _too_many(page: Page, template: str, wait: int, **ctx: Any) -> Response:
    message = page.gettext("Too many attempts: try again in %(n)s minutes.", n=max(1, math.ceil(wait / 60)))
    response = page.render(template, status_code=429, alert=message, **ctx)
    response.headers["Retry-After"] = str(wait)
    return response


# --- sign-up -------------------------------------------------------------------------------------

_FIELD_OF = {
    "invalid_email": "email",
    "email_taken": "email",
    "weak_password": "password",
    "invalid_slug": "slug",
    "slug_taken": "slug",
}


def _field_errors(page: Page, exc: DomainError) -> dict[str, str]:
    """A service refusal as `{field: message}` in the page's language."""
    code = str(exc.code)
    messages = {
        "invalid_email": page.gettext("Enter a valid email address."),
        "email_taken": page.gettext("An account already uses this email: sign in or reset your password."),
        "weak_password": page.gettext(
            "Choose a password of at least %(n)s characters.", n=tenancy.MIN_PASSWORD
        ),
        "invalid_slug": page.gettext("Use 2 to 63 lowercase letters, digits or dashes."),
        "slug_taken": page.gettext("This address is taken: choose another one."),
    }
    field = _FIELD_OF.get(code, "form")
    return {field: messages.get(code, exc.detail or code)}


def _signup_form(page: Page, status_code: int = 200, **ctx: Any) -> Response:
    values: dict[str, Any] = {"email": "", "brand_name": "", "slug": "", "errors": {}, "alert": None}
    values.update(ctx)
    return page.render(
        "account/signup.html", status_code=status_code, min_password=tenancy.MIN_PASSWORD, **values
    )


@router.get("/signup")
def signup_form(page: PublicPage) -> Response:
    """The sign-up form (a signed-in member goes to their dashboard)."""
    if page.principal is not None and page.principal.brand_id is not None:
        return page.redirect("/dashboard")
    return _signup_form(page)


@router.post("/signup")
def signup(
    page: PublicPage,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    brand_name: Annotated[str, Form(max_length=200)] = "",
    slug: Annotated[str, Form(max_length=63)] = "",
) -> Response:
    """Create the brand, its owner and the membership in one transaction, then sign in."""
    ctx = {"email": email, "brand_name": brand_name, "slug": slug}
    wait = retry_after(page, "signup", SIGNUP_LIMIT)
    if wait is not None:
        values = {"errors": {}, "min_password": tenancy.MIN_PASSWORD, **ctx}
        return _too_many(page, "account/signup.html", wait, **values)
    if not brand_name.strip():
        errors = {"brand_name": page.gettext("Give your brand a name.")}
        return _signup_form(page, 422, errors=errors, **ctx)
    try:
        with get_db().transaction() as s:
            _, brand, (access, refresh) = tenancy.sign_up(
                s,
                get_settings(),
                email=email,
                password=password,
                brand_name=brand_name,
                slug=slug or None,
                lang=page.locale,
            )
            brand_id = brand.id
    except DomainError as exc:
        return _signup_form(page, 422, errors=_field_errors(page, exc), **ctx)
    except IntegrityError:  # a concurrent sign-up took the email or the slug first
        errors = {
            "email": page.gettext("An account already uses this email: sign in or reset your password.")
        }
        return _signup_form(page, 422, errors=errors, **ctx)
    session.sign_in(page.request, access, refresh)
    session.queue_cookie(page.request, session.BRAND_COOKIE, brand_id)
    return page.redirect("/dashboard")


# --- email verification --------------------------------------------------------------------------


@router.get("/verify")
def verify(page: PublicPage, token: str = "") -> Response:
    """Spend a verification link: the email is verified (a used or expired link says so)."""
    try:
        with get_db().transaction() as s:
            bind_system(s)
            tenancy.verify_email(s, token[:300])
    except DomainError as exc:
        expired = str(exc.code) == "token_expired"
        message = (
            page.gettext("This link has expired. Sign in and ask for a new one.")
            if expired
            else page.gettext("This link is not valid or was already used.")
        )
        return page.render(
            "account/verify.html", status_code=410 if expired else 404, ok=False, message=message
        )
    return page.render(
        "account/verify.html", ok=True, message=page.gettext("Your email address is verified.")
    )


@router.post("/verify/resend")
def resend_verification(page: ResendPage) -> Response:
    """Email a new verification link (rate-limited per person)."""
    assert page.principal is not None and page.principal.user_id is not None
    wait = retry_after(page, "resend", RESEND_LIMIT, ident=page.principal.user_id)
    if wait is not None:
        return page.redirect("/dashboard?resent=limited")
    tenancy.send_verification(
        page.session, get_settings(), page.principal.user_id, brand_id=page.brand_id, lang=page.locale
    )
    return page.redirect("/dashboard?resent=1")


# --- password reset ------------------------------------------------------------------------------


@router.get("/password/forgot")
def forgot_form(page: PublicPage) -> Response:
    """Ask for a password-reset link."""
    return page.render("account/forgot.html", sent=False, email="", alert=None)


@router.post("/password/forgot")
def forgot(page: PublicPage, email: Annotated[str, Form(max_length=320)] = "") -> Response:
    """Email a reset link when the address has an account; the same answer either way."""
    wait = retry_after(page, "forgot", FORGOT_LIMIT)
    if wait is not None:
        return _too_many(page, "account/forgot.html", wait, sent=False, email=email)
    with get_db().transaction() as s:
        bind_system(s)
        tenancy.request_password_reset(s, get_settings(), email[:320], lang=page.locale)
    return page.render("account/forgot.html", sent=True, email="", alert=None)


def _reset_form(page: Page, token: str, status_code: int = 200, **ctx: Any) -> Response:
    values: dict[str, Any] = {"error": None, "invalid": None}
    values.update(ctx)
    return page.render(
        "account/reset.html",
        status_code=status_code,
        token=token,
        min_password=tenancy.MIN_PASSWORD,
        **values,
    )


def _invalid_link(page: Page, exc: DomainError) -> str:
    if str(exc.code) == "token_expired":
        return page.gettext("This link has expired: ask for a new one.")
    return page.gettext("This link is not valid or was already used.")


@router.get("/password/reset")
def reset_form(page: PublicPage, token: str = "") -> Response:
    """Choose a new password (the link is checked, not spent)."""
    try:
        with get_db().transaction(write=False) as s:
            bind_system(s)
            tenancy.check_reset_token(s, token[:300])
    except DomainError as exc:
        return _reset_form(page, "", 404, invalid=_invalid_link(page, exc))
    return _reset_form(page, token)


@router.post("/password/reset")
def reset(
    page: PublicPage,
    token: Annotated[str, Form(max_length=300)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Set the new password, end every other session, and go to the sign-in form."""
    try:
        with get_db().transaction() as s:
            bind_system(s)
            tenancy.reset_password(s, token, password)
    except DomainError as exc:
        if str(exc.code) == "weak_password":
            error = page.gettext("Choose a password of at least %(n)s characters.", n=tenancy.MIN_PASSWORD)
            return _reset_form(page, token, 422, error=error)
        return _reset_form(page, "", 404, invalid=_invalid_link(page, exc))
    session.sign_out(page.request)
    return page.redirect("/dashboard/login?reset=1")


# --- a signed-in person without a brand ----------------------------------------------------------


@router.get("/welcome")
def welcome_form(page: PublicPage) -> Response:
    """A person without a brand (e.g. they left their last one) creates one here."""
    if page.principal is None:
        return page.redirect("/dashboard/login")
    if page.principal.brand_id is not None:
        return page.redirect("/dashboard")
    return page.render("account/welcome.html", brand_name="", slug="", errors={})


@router.post("/welcome")
def welcome(
    page: PublicPage,
    brand_name: Annotated[str, Form(max_length=200)] = "",
    slug: Annotated[str, Form(max_length=63)] = "",
) -> Response:
    """Create a brand owned by the signed-in person and switch to it."""
    if page.principal is None or page.principal.user_id is None:
        return page.redirect("/dashboard/login")
    if page.principal.brand_id is not None:
        return page.redirect("/dashboard")
    if not brand_name.strip():
        errors = {"brand_name": page.gettext("Give your brand a name.")}
        return page.render("account/welcome.html", 422, brand_name=brand_name, slug=slug, errors=errors)
    try:
        with get_db().transaction() as s:
            brand, (access, refresh) = tenancy.create_brand_for(
                s, get_settings(), page.principal.user_id, brand_name=brand_name, slug=slug or None
            )
            brand_id = brand.id
    except DomainError as exc:
        errors = _field_errors(page, exc)
        return page.render("account/welcome.html", 422, brand_name=brand_name, slug=slug, errors=errors)
    session.sign_in(page.request, access, refresh)
    session.queue_cookie(page.request, session.BRAND_COOKIE, brand_id)
    return page.redirect("/dashboard")


# --- the home page -------------------------------------------------------------------------------


#: The permission each checklist link's page needs (a step the role cannot open is not a link).
_LINK_NEEDS = {
    "/dashboard/products": "catalog:read",
    "/dashboard/integrations": "keys:manage",
    "/dashboard/orders": "orders:read",
}


def checklist(page: Page) -> list[dict[str, Any]]:
    """The onboarding steps, each ticked from the brand's real data (a handful of queries)."""
    s, brand_id = page.session, page.brand_id
    products, zones = catalog.onboarding_progress(s, brand_id)
    widget = analytics.has_event(s, brand_id, "widget_loaded")
    keys = tenancy.integration_status(s, brand_id)
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    figures = commerce.order_figures(s, brand_id, today, today - timedelta(days=today.weekday()))
    g = page.gettext
    steps = [
        ("product", g("Create your first product"), products > 0, "/dashboard/products"),
        ("zones", g("Add personalization zones to a product"), zones, "/dashboard/products"),
        ("widget", g("Test the widget"), widget, "/dashboard/integrations"),
        (
            "origins",
            g("Set the websites allowed to embed the widget"),
            keys["origins"],
            "/dashboard/integrations",
        ),
        (
            "embed",
            g("Get a publishable key and the embed snippet"),
            keys["publishable_key"],
            "/dashboard/integrations",
        ),
        ("order", g("Place and pay a first test order"), figures["paid"] > 0, "/dashboard/orders"),
    ]
    page.request.state.order_figures = figures
    return [
        {"key": k, "label": label, "done": done, "href": href if page.can(_LINK_NEEDS[href]) else None}
        for k, label, done, href in steps
    ]


def home_context(page: Page) -> dict[str, Any]:
    """What home.html shows: the checklist, a few figures, the verification banner."""
    steps = checklist(page)
    figures: dict[str, Any] = dict(page.request.state.order_figures) if page.can("orders:read") else {}
    if page.can("credits:read"):
        figures["credits"] = int(credits.balance_view(page.session, page.brand_id)["balance"])
    user_id = page.principal.user_id if page.principal else None
    return {
        "steps": steps,
        "done_count": sum(1 for step in steps if step["done"]),
        "figures": figures,
        "verified": tenancy.email_verified(page.session, user_id),
        "resent": page.request.query_params.get("resent"),
    }
