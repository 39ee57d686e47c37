"""RFC 9457 problem details: the edge's exception type and the handlers that render every error.

Routers, pages and platform middleware raise `Problem` (they are the edge); services raise
`luneo.platform.domain_errors.DomainError`, mapped here to a problem through the HTTP status its
domain's `error_codes` module registered."""

from __future__ import annotations

import json
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from luneo.platform.domain_errors import DomainError, http_headers, http_status

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("luneo.errors")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    402: "payment_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class Problem(Exception):
    """An error the API answers as `application/problem+json` with a stable `code`."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.title = title or code.replace("_", " ").capitalize()
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://luneo.app/problems/{self.code.replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class NotFound(Problem):
    """404 — also the answer for another brand's id (never reveal it exists)."""

    def __init__(self, what: str = "resource", ident: str | None = None) -> None:
        detail = f"{what} {ident} not found" if ident else f"{what} not found"
        super().__init__(404, "not_found", detail, title="Not found")


class Conflict(Problem):
    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(409, code, detail, **extra)


class Invalid(Problem):
    """422 with field-level errors or rule violations."""

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(422, code, detail, **extra)


# A dependency (PostgreSQL, Redis) is unreachable: 503 + Retry-After, never a 500.
RETRY_AFTER_S = 5


def _outage_types() -> tuple[type[Exception], ...]:
    types: list[type[Exception]] = [
        OperationalError,
        DisconnectionError,
        InterfaceError,
        PoolTimeoutError,
    ]
    try:
        import redis.exceptions

        types += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a declared dependency
        pass
    return tuple(types)


OUTAGE_ERRORS = _outage_types()


def is_outage(exc: BaseException) -> bool:
    """True for a database or Redis connection failure (the request may succeed on retry)."""
    return isinstance(exc, OUTAGE_ERRORS)


def service_unavailable(exc: BaseException | None = None) -> Problem:
    """The 503 answered while a dependency is down (logged without the request's data)."""
    if exc is not None:
        log.warning("dependency_unavailable", error=type(exc).__name__)
    return Problem(
        503,
        "service_unavailable",
        "A service this request needs is temporarily unavailable; retry shortly.",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


class ProblemResponse(JSONResponse):
    """`application/problem+json`; text that UTF-8 cannot encode (a lone surrogate echoed from the
    input) is written as a JSON escape instead of failing the error response itself."""

    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def problem_from(error: DomainError) -> Problem:
    """The problem the API answers for a service's `DomainError`: the status (and fixed headers)
    registered by the code's domain, the same code, detail and extra fields (a code whose enum
    registered no status is a bug: logged, answered 500)."""
    try:
        status = http_status(error.code)
    except LookupError:
        log.error("domain_error_unmapped", code=str(error.code), enum=type(error.code).__name__)
        return Problem(500, "internal_error", "An unexpected error occurred.")
    headers = http_headers(error.code)
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(error.retry_after_s)
    return Problem(status, error.code.value, error.detail, headers=headers, **error.extra)


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    instance = request.url.path if request is not None else None
    headers = dict(problem.headers)
    rid = getattr(request.state, "request_id", None) if request is not None else None
    body = problem.body(instance)
    if rid:
        body["request_id"] = rid
    return ProblemResponse(body, status_code=problem.status, headers=headers, media_type=PROBLEM_JSON)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        out.append(
            {
                "loc": loc,
                "field": ".".join(loc[1:]) or loc[0] if loc else "",
                "type": err.get("type"),
                "message": err.get("msg"),
            }
        )
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Every error becomes a problem response: ours, HTTP errors, validation, and the unexpected."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(problem_from(exc), request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        json_error = any(e["type"] == "json_invalid" for e in errors)
        problem = Problem(
            422 if not json_error else 400,
            "validation_error" if not json_error else "malformed_json",
            "The request body or parameters are invalid."
            if not json_error
            else "The body is not valid JSON.",
            errors=errors,
        )
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(
            Problem(exc.status_code, code, detail, headers=dict(exc.headers or {})), request
        )

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
        # A number or text the database cannot store (integer beyond 64 bits, …) is bad input.
        log.info("value_out_of_range", path=request.url.path, error=type(exc).__name__)
        return problem_response(
            Problem(422, "value_out_of_range", "A value in the request is out of the range this API stores."),
            request,
        )

    async def _outage(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(service_unavailable(exc), request)

    for outage in OUTAGE_ERRORS:
        app.add_exception_handler(outage, _outage)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):  # raised by a middleware, outside the route's handlers
            return problem_response(service_unavailable(exc), request)
        log.exception("unhandled_error", path=request.url.path)
        return problem_response(Problem(500, "internal_error", "An unexpected error occurred."), request)
