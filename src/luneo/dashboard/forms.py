"""The shape every dashboard form handler shares: call the service with the parsed form; when it
refuses (`DomainError`) show the page again with the API's message next to the form and the
problem's status, else go on (a redirect — `HX-Redirect` for HTMX — or a page of the result).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from fastapi.responses import Response

from luneo.dashboard.guard import Page
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import problem_from

T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """A service's refusal as the form shows it: the HTTP status and the API problem's message."""

    status: int
    message: str


def refusal(exc: DomainError, statuses: Collection[int] | None = None) -> Refusal:
    """The refusal of `exc` as the API states it (status, detail). With `statuses`, a status
    outside them is answered 422 and a 404 is raised again (the page's own 404)."""
    problem = problem_from(exc)
    if statuses is None:
        return Refusal(problem.status, problem.detail or problem.code)
    if problem.status == 404:
        raise exc
    return Refusal(problem.status if problem.status in statuses else 422, problem.detail or problem.code)


def submit(
    page: Page,
    action: Callable[[], T],
    *,
    then: str | Callable[[T], Response],
    failed: Callable[[Refusal], Response],
    statuses: Collection[int] | None = None,
) -> Response:
    """Run `action` (the service call); on `DomainError` answer `failed(refusal)`, else redirect to
    `then` (a URL) or answer `then(result)`."""
    try:
        result = action()
    except DomainError as exc:
        return failed(refusal(exc, statuses))
    return page.redirect(then) if isinstance(then, str) else then(result)


def parse_day(page: Page, value: str | None, name: str, errors: dict[str, str]) -> date | None:
    """A filter's `YYYY-MM-DD` date, or None when empty; a bad one notes its message in `errors`."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = page.gettext("Use a date like 2026-01-31.")
        return None
