"""Domain error codes: every code maps to one HTTP status at the edge, services raise `DomainError`
(never `Problem` or an HTTP exception), and a service's error becomes the same problem response."""

from __future__ import annotations

import ast
import importlib
import re
from enum import StrEnum
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import luneo
from luneo.platform.domain_errors import (
    CommonErrorCode,
    DomainError,
    NotFoundError,
    register_http_statuses,
    registered_codes,
)
from luneo.platform.errors import install_error_handlers, problem_from

SRC = Path(luneo.__file__).parent
NOT_DOMAINS = {"platform", "design", "migrations"}  # the edges' platform, the pure core, migrations
EDGE_MODULES = {"api.py", "pages.py", "deps.py"}  # routers and pages are the HTTP edge
# The dashboard is all HTTP edge: every module of it is pages over the services.
PAGE_PACKAGES = {"dashboard"}
HTTP_ERRORS = {"Problem", "NotFound", "Conflict", "Invalid", "HTTPException"}
# A wire code answered with two statuses before the enums existed, kept for compatibility.
SHARED_CODE_STATUSES = {"spec_mismatch": {409, 422}}


def _domains() -> list[Path]:
    return sorted(p for p in SRC.iterdir() if (p / "__init__.py").exists() and p.name not in NOT_DOMAINS)


def _code_enums() -> list[type[StrEnum]]:
    enums: list[type[StrEnum]] = [CommonErrorCode]
    for pkg in _domains():
        if (pkg / "error_codes.py").exists():
            module = importlib.import_module(f"luneo.{pkg.name}.error_codes")
            enums += [
                v
                for v in vars(module).values()
                if isinstance(v, type) and issubclass(v, StrEnum) and v.__module__ == module.__name__
            ]
    return enums


# --------------------------------------------------------------------------- the codes


def test_every_domain_code_has_an_http_status():
    enums = _code_enums()
    assert len(enums) >= 11  # common + one per domain that refuses anything (rendering, widget: common only)
    registry = registered_codes()
    for enum in enums:
        assert enum in registry, f"{enum.__name__} is not registered with register_http_statuses"
        for member in enum:
            assert 400 <= registry[enum][member] <= 599, member
            assert re.fullmatch(r"[a-z][a-z0-9_]*", member.value), member


def test_codes_are_unique_per_value_and_status():
    statuses: dict[str, set[int]] = {}
    enums = _code_enums()  # imports every error_codes module (registering it) first
    registry = registered_codes()
    for enum in enums:
        assert len(enum.__members__) == len(list(enum)), f"{enum.__name__} has aliased values"
        for member in enum:
            statuses.setdefault(member.value, set()).add(registry[enum][member])
        if enum is not CommonErrorCode:  # shared meanings live in CommonErrorCode only
            assert not {m.value for m in enum} & {m.value for m in CommonErrorCode}, enum.__name__
    several = {code: s for code, s in statuses.items() if len(s) > 1}
    assert several == SHARED_CODE_STATUSES


def test_registering_a_code_without_a_status_fails_at_import():
    class Partial(StrEnum):
        ONE = "one"
        TWO = "two"

    with pytest.raises(ValueError, match="TWO"):
        register_http_statuses(Partial, {Partial.ONE: 422})
    with pytest.raises(ValueError, match="4xx/5xx"):
        register_http_statuses(Partial, {Partial.ONE: 422, Partial.TWO: 200})


# --------------------------------------------------------------------------- the edge


def test_problem_keeps_code_detail_extra_fields_and_adds_registered_headers():
    from luneo.catalog.error_codes import CatalogErrorCode
    from luneo.tenancy.error_codes import TenancyErrorCode

    p = problem_from(DomainError(CatalogErrorCode.SKU_TAKEN, "SKU X is used.", sku="X"))
    body = p.body("/api/v1/products")
    assert (p.status, body["code"], body["detail"], body["sku"]) == (409, "sku_taken", "SKU X is used.", "X")
    assert type(body["code"]) is str and body["title"] == "Sku taken"
    busy = problem_from(DomainError(CatalogErrorCode.UPLOADS_BUSY, "Busy.", retry_after_s=2))
    assert (busy.status, busy.headers) == (503, {"Retry-After": "2"})
    login = problem_from(DomainError(TenancyErrorCode.LOGIN_REQUIRED, "Log in."))
    assert (login.status, login.headers) == (401, {"WWW-Authenticate": 'Bearer realm="luneo"'})
    missing = problem_from(NotFoundError("product", "prd_1")).body()
    assert missing == {
        "type": "https://luneo.app/problems/not-found",
        "title": "Not found",
        "status": 404,
        "code": "not_found",
        "detail": "product prd_1 not found",
    }


def test_an_unregistered_code_is_a_logged_500_not_a_crash():
    class Stray(StrEnum):
        LOST = "lost"

    p = problem_from(DomainError(Stray.LOST, "nobody mapped me"))
    assert (p.status, p.code) == (500, "internal_error")


def _answer(raise_it) -> tuple[int, dict, dict]:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/x")
    def route() -> None:
        raise_it()

    r = TestClient(app, raise_server_exceptions=False).get("/x")
    assert r.headers["content-type"] == "application/problem+json"
    return r.status_code, r.json(), dict(r.headers)


def test_commerce_service_error_becomes_its_problem():
    from luneo.commerce.status import check_transition

    status, body, _ = _answer(lambda: check_transition("pending", "delivered"))
    assert (status, body["code"]) == (409, "invalid_transition")
    assert (body["current"], body["to"]) == ("pending", "delivered")
    assert body["allowed"] == ["cancelled", "paid"] and body["instance"] == "/x"


def test_catalog_upload_error_becomes_its_problem():
    from luneo.catalog.assets import check_upload

    status, body, _ = _answer(lambda: check_upload(b"x" * 20, kind="upload", max_bytes=10))
    assert (status, body["code"], body["limit_bytes"]) == (413, "file_too_large", 10)
    status, body, _ = _answer(lambda: check_upload(b"", kind="upload", max_bytes=10))
    assert (status, body["code"], body["detail"]) == (422, "empty_file", "The file is empty.")


def test_credits_and_tenancy_and_designs_errors_become_their_problems():
    from luneo.credits.service import InsufficientCredits
    from luneo.designs.service import ensure_mutable
    from luneo.tenancy.service import _require_owner

    def broke() -> None:
        raise InsufficientCredits(balance=3, cost=5, operation="ai.generate")

    status, body, _ = _answer(broke)
    assert (status, body["code"], body["balance"], body["cost"]) == (402, "insufficient_credits", 3, 5)
    status, body, _ = _answer(lambda: _require_owner("admin"))
    assert (status, body["code"]) == (403, "owner_required")
    locked = SimpleNamespace(locked_at="2026-01-01T00:00:00Z")
    status, body, _ = _answer(lambda: ensure_mutable(locked))  # type: ignore[arg-type]
    assert (status, body["code"], body["detail"]) == (409, "snapshot_locked", "This snapshot is locked.")


# --------------------------------------------------------------------------- the guard


def http_errors_in(source: str) -> list[str]:
    """Lines where a module raises/builds an HTTP problem or imports an HTTP exception type."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            edge = node.module in (
                "luneo.platform.errors",
                "fastapi",
                "fastapi.exceptions",
                "starlette.exceptions",
            )
            names = {a.name for a in node.names} & HTTP_ERRORS
            if edge and names:
                found.append(f"{node.lineno}: imports {', '.join(sorted(names))} from {node.module}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            if name in HTTP_ERRORS:
                found.append(f"{node.lineno}: builds {name}(...)")
    return found


def test_services_raise_domain_errors_not_http_problems():
    offences = {}
    for pkg in _domains():
        for path in sorted(pkg.rglob("*.py")):
            if path.name in EDGE_MODULES and path.parent == pkg:
                continue
            if pkg.name in PAGE_PACKAGES:
                continue
            found = http_errors_in(path.read_text(encoding="utf-8"))
            if found:
                offences[str(path.relative_to(SRC))] = found
    assert offences == {}, (
        "services raise DomainError(<Domain>ErrorCode.X, ...); only api.py/pages.py answer HTTP"
    )


def test_the_guard_sees_problems_and_http_exceptions():
    source = (
        "from fastapi import HTTPException\n"
        "from luneo.platform.errors import NotFound\n"
        "from luneo.platform import errors\n"
        "def f():\n"
        "    raise errors.Problem(404, 'x')\n"
    )
    assert http_errors_in(source) == [
        "1: imports HTTPException from fastapi",
        "2: imports NotFound from luneo.platform.errors",
        "5: builds Problem(...)",
    ]
