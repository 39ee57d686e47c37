"""Errors on dashboard pages answer pages, not JSON: sign-in redirects, 403/404 pages, and a
problem page that still carries the RFC 9457 fields (code, detail) for support."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from luneo.dashboard import i18n, session, templating
from luneo.dashboard.guard import LoginRequired, page_url
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import Problem, problem_from, problem_response

PREFIX = "/dashboard"


def _is_page(request: Request) -> bool:
    path = request.url.path
    return (path == PREFIX or path.startswith(PREFIX + "/")) and not path.startswith(PREFIX + "/static/")


def login_redirect(request: Request, exc: LoginRequired) -> Response:
    """303 to the sign-in page (or to `exc.next_url` when it is a page of its own, e.g. welcome)."""
    target = exc.next_url if exc.next_url.startswith("/dashboard/welcome") else None
    url = target or page_url("/dashboard/login", exc.next_url)
    if request.headers.get("hx-request") == "true":
        return session.apply_cookies(request, Response(status_code=204, headers={"HX-Redirect": url}))
    return session.apply_cookies(request, Response(status_code=303, headers={"Location": url}))


def problem_page(request: Request, problem: Problem) -> Response:
    """An HTML page for `problem` in the visitor's language (its status, code and detail kept)."""
    locale = i18n.negotiate(request)
    html = templating.render(
        locale,
        "error.html",
        {
            "page": None,
            "request": request,
            "path": request.url.path,
            "csrf": session.csrf_token(request),
            "embedded": session.embedded(request),
            "crisp_website_id": None,
            "problem": problem,
        },
    )
    response = HTMLResponse(html, status_code=problem.status, headers=dict(problem.headers))
    response.headers["Cache-Control"] = "no-store"
    return session.apply_cookies(request, response)


def install(app: FastAPI) -> None:
    """Wrap the app's problem handlers: dashboard pages get HTML, every other path keeps JSON."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return login_redirect(request, exc)

    def _answer(request: Request, problem: Problem) -> Response:
        if _is_page(request) and request.headers.get("hx-request") != "true":
            return problem_page(request, problem)
        return problem_response(problem, request)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return _answer(request, exc)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return _answer(request, problem_from(exc))

    previous: Any = app.exception_handlers.get(StarletteHTTPException)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_page(request) and request.headers.get("hx-request") != "true":
            detail = exc.detail if isinstance(exc.detail, str) else None
            code = "not_found" if exc.status_code == 404 else "http_error"
            return problem_page(request, Problem(exc.status_code, code, detail))
        return await previous(request, exc)  # type: ignore[no-any-return]
