"""Signing in to the dashboard from a test client, as a browser does (CSRF cookie, form post)."""

from __future__ import annotations

import re
from typing import Any

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def csrf_of(client: Any, path: str = "/dashboard/login") -> str:
    """The CSRF token a page embeds for this browser (its cookie is set by the same response)."""
    r = client.get(path, follow_redirects=True)
    found = CSRF_META.search(r.text)
    assert found, f"no CSRF token on {path}: {r.status_code} {r.text[:300]}"
    return found.group(1)


def sign_in(client: Any, email: str, password: str = "correct horse battery") -> str:
    """Sign in through the form; returns the CSRF token to send with later forms."""
    token = csrf_of(client)
    r = client.post(
        "/dashboard/login",
        data={"email": email, "password": password, "csrf": token, "next": "/dashboard"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    return token


def post(client: Any, path: str, csrf: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """A dashboard form post with its CSRF field."""
    return client.post(path, data={**(data or {}), "csrf": csrf}, follow_redirects=False, **kw)
