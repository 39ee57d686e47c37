"""Which of our languages a browser prefers: `Accept-Language` negotiated with Babel."""

from __future__ import annotations

from collections.abc import Iterable

from babel.core import negotiate_locale

#: Longest `Accept-Language` header read (anything longer is cut: bounded work on bad input).
MAX_HEADER = 500


def best_language(accept_language: str | None, available: Iterable[str], default: str = "en") -> str:
    """The best of `available` for an `Accept-Language` header (quality weights honoured,
    `q=0` and malformed weights ignored), else `default`."""
    preferred: list[tuple[float, str]] = []
    for part in (accept_language or "")[:MAX_HEADER].split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        if tag and weight > 0:
            preferred.append((weight, tag.replace("-", "_")))
    ordered = [tag for _, tag in sorted(preferred, key=lambda p: -p[0])]
    return negotiate_locale(ordered, list(available)) or default
