"""Accept-Language negotiation shared by the dashboard and the public share page."""

from __future__ import annotations

import pytest

from luneo.platform.languages import best_language


@pytest.mark.parametrize(
    ("header", "best"),
    [
        ("fr-CA,fr;q=0.9,en;q=0.5", "fr"),
        ("de-DE,en;q=0.3,fr;q=0.8", "fr"),
        ("fr;q=0,en", "en"),
        ("fr;q=abc, de", "en"),
        (None, "en"),
        ("x" * 10_000 + ",fr", "en"),
    ],
)
def test_best_language(header: str | None, best: str) -> None:
    assert best_language(header, ("en", "fr")) == best
