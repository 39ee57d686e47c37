"""The OpenAPI document says what the API really answers: RFC 9457 problems and bearer auth.

FastAPI documents each route's success and a 422 `HTTPValidationError` that the app never sends
(our validation errors are problems). This layer rewrites the generated document once:

- a `Problem` schema (`application/problem+json`) for every 4xx/5xx answer;
- the answers every operation can give (`COMMON_PROBLEMS`: malformed body, missing or wrong
  credential, permission, foreign or missing id, conflict, body too large, invalid input, rate
  limit, database unavailable), plus each route's own (`responses=` on the route, or
  `ROUTE_PROBLEMS` below);
- the `HTTPBearer` security scheme (so `/docs` has *Authorize*) on every operation except the
  public ones (`PUBLIC_OPERATIONS`, which answer `security: []`).

Schemathesis (tests/integration/test_fuzz_api.py) checks responses against this document, so a
route answering a status or body it does not declare fails CI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fastapi import FastAPI

from luneo.platform.errors import PROBLEM_JSON

BEARER = "HTTPBearer"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `code` is stable and machine-readable.",
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the problem type."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string", "pattern": "^[a-z0-9_]+$"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Field-level errors of a `validation_error`.",
            "items": {"type": "object"},
        },
    },
    "additionalProperties": True,
}

# What any operation may answer, whatever the route does.
COMMON_PROBLEMS: dict[int, str] = {
    400: "Malformed request (`malformed_json`, `bad_request`).",
    401: "Missing, invalid or expired credential (`unauthorized`, `invalid_token`, `token_expired`).",
    403: "The credential may not do this (`forbidden`, `origin_not_allowed`, `no_brand`).",
    404: "No such resource in the caller's brand (`not_found`; another brand's id answers the same).",
    409: "Conflicts with the resource's state (`conflict`, idempotency key in flight, …).",
    413: "The body is too large (`payload_too_large`).",
    422: "Invalid input (`validation_error`, `invalid_unicode`, `value_out_of_range`, rule violations).",
    429: "Rate limited (`rate_limited`; see `Retry-After`).",
    503: "A backing service is unavailable (`service_unavailable`).",
}
OTHER_PROBLEMS: dict[int, str] = {
    402: "Not enough credits or no paid plan (`insufficient_credits`, …).",
    415: "Unsupported file type (`unsupported_media_type`).",
}

# Operations callable without a bearer credential: they authenticate otherwise (password,
# refresh token, webhook signature, share token) or serve public data.
PUBLIC_OPERATIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/refresh"),
        ("post", "/api/v1/auth/logout"),
        ("get", "/api/v1/specs/schema"),
        ("get", "/api/v1/shared/designs/{share_token}"),
        ("post", "/api/v1/webhooks/stripe"),
        ("post", "/api/v1/webhooks/paypal"),
    }
)

# Route-specific answers not already declared with `responses=` on the route.
ROUTE_PROBLEMS: dict[tuple[str, str], tuple[int, ...]] = {
    ("post", "/api/v1/assets"): (415,),
    ("post", "/api/v1/fonts"): (415,),
    ("post", "/api/v1/widget/uploads"): (415,),
    ("post", "/api/v1/renders/final"): (402,),
    ("post", "/api/v1/billing/payment-intents"): (402,),
}


def _problem_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": dict(PROBLEM_REF)}}}


def _drop_unreferenced(doc: dict[str, Any], names: Iterable[str]) -> None:
    import json

    schemas = doc.get("components", {}).get("schemas", {})
    for name in names:
        if name not in schemas:
            continue
        rest = {k: v for k, v in schemas.items() if k != name}
        text = json.dumps({"paths": doc.get("paths", {}), "schemas": rest})
        if f'"#/components/schemas/{name}"' not in text:
            del schemas[name]


def describe_problems(
    doc: dict[str, Any],
    *,
    public: Iterable[tuple[str, str]] = PUBLIC_OPERATIONS,
    route_problems: Mapping[tuple[str, str], Iterable[int]] = ROUTE_PROBLEMS,
) -> dict[str, Any]:
    """Rewrite a generated OpenAPI document in place (see the module docstring); returns it."""
    public = set(public)
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An owner/member access token (JWT from `/auth/login` or the identity "
        "provider), a secret key `sk_…`, or a publishable key `pk_…` (widget, with its Origin).",
    }
    known = {**OTHER_PROBLEMS, **COMMON_PROBLEMS}
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses: dict[str, Any] = op["responses"]
            codes = set(COMMON_PROBLEMS) | set(route_problems.get((method, path), ()))
            codes |= {int(s) for s in responses if s.isdigit() and int(s) >= 400}
            for code in sorted(codes):
                declared = responses.get(str(code), {})
                description = declared.get("description")
                if not description or description == "Validation Error":
                    description = known.get(code, "Problem.")
                responses[str(code)] = _problem_answer(description)
            op["responses"] = dict(sorted(responses.items()))
            if "security" not in op:
                op["security"] = [] if (method, path) in public else [{BEARER: []}]
    _drop_unreferenced(doc, ("HTTPValidationError", "ValidationError"))
    return doc


def install_openapi(app: FastAPI, rewrite: Callable[[dict[str, Any]], Any] = describe_problems) -> None:
    """Make `app.openapi()` (and `/api/v1/openapi.json`, `/docs`) serve the rewritten document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = generate()
            rewrite(doc)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
