"""The dashboard's shared form handling (`luneo.dashboard.forms`) and the windowed counter the
account forms share with the upload limits (`catalog.window_wait`)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Request
from fastapi.responses import Response

from luneo.catalog import public as catalog
from luneo.dashboard.forms import Refusal, refusal, submit
from luneo.platform.domain_errors import CommonErrorCode, DomainError, NotFoundError


class _Page:
    """What `submit` uses of a page: its redirect."""

    def redirect(self, url: str) -> Response:
        return Response(status_code=303, headers={"location": url})


def _refuse(code: CommonErrorCode, detail: str | None = "No.") -> Any:
    def action() -> None:
        raise DomainError(code, detail)

    return action


def test_submit_redirects_or_answers_the_result_after_the_service_call() -> None:
    done = submit(_Page(), lambda: 7, then="/dashboard/x?saved=1", failed=lambda r: Response(status_code=500))  # type: ignore[arg-type]
    assert done.status_code == 303 and done.headers["location"] == "/dashboard/x?saved=1"
    made = submit(
        _Page(), lambda: 7, then=lambda n: Response(str(n), status_code=201), failed=lambda r: Response()
    )  # type: ignore[arg-type]
    assert (made.status_code, made.body) == (201, b"7")


def test_a_refusal_carries_the_api_status_and_message_back_to_the_form() -> None:
    seen: list[Refusal] = []

    def failed(r: Refusal) -> Response:
        seen.append(r)
        return Response(status_code=r.status)

    page: Any = _Page()
    assert (
        submit(page, _refuse(CommonErrorCode.CONFLICT, "Taken."), then="/x", failed=failed).status_code == 409
    )
    assert (
        submit(page, _refuse(CommonErrorCode.VALIDATION, None), then="/x", failed=failed).status_code == 422
    )
    assert seen == [Refusal(409, "Taken."), Refusal(422, "validation_error")]  # no detail: the code


def test_with_statuses_others_are_422_and_a_404_stays_the_pages_own() -> None:
    assert refusal(DomainError(CommonErrorCode.FORBIDDEN, "x"), (409, 422)) == Refusal(422, "x")
    assert refusal(DomainError(CommonErrorCode.CONFLICT, "x"), (409, 422)) == Refusal(409, "x")
    assert refusal(DomainError(CommonErrorCode.FORBIDDEN, "x")) == Refusal(403, "x")
    with pytest.raises(NotFoundError):
        refusal(NotFoundError("order", "ord_1"), (409, 422))
    assert refusal(NotFoundError("order", "ord_1")).status == 404


def test_window_wait_counts_each_namespace_and_identity_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    from luneo.platform.config import get_settings

    monkeypatch.setattr(get_settings(), "redis_url", None)
    request = Request({"type": "http", "client": ("203.0.113.9", 1), "headers": [], "app": object()})
    assert catalog.window_wait(request, "2/hour", "dashboard-account", "signup", "a") is None
    assert catalog.window_wait(request, "2/hour", "dashboard-account", "signup", "a") is None
    wait = catalog.window_wait(request, "2/hour", "dashboard-account", "signup", "a")
    assert wait is not None and wait >= 1
    assert catalog.window_wait(request, "2/hour", "dashboard-account", "signup", "b") is None
    assert catalog.window_wait(request, "2/hour", "dashboard-account", "forgot", "a") is None
