"""Prompt moderation at the API edge: built-in terms plus the brand's `settings["blocked_terms"]`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from luneo.ai.error_codes import AIErrorCode
from luneo.ai.local.moderation import check_prompt
from luneo.platform.domain_errors import DomainError


def blocked_terms(brand_settings: dict[str, Any]) -> list[str]:
    raw = brand_settings.get("blocked_terms") or []
    return [str(t) for t in raw if isinstance(t, str) and t.strip()][:1000] if isinstance(raw, list) else []


def ensure_allowed(texts: Iterable[str], brand_settings: dict[str, Any]) -> None:
    """Raise the 422 `prompt_rejected` problem (with the matched terms) when any text is refused."""
    terms = blocked_terms(brand_settings)
    matched: list[str] = []
    categories: list[str] = []
    for text in texts:
        res = check_prompt(text, terms)
        matched += [t for t in res.matched_terms if t not in matched]
        categories += [c for c in res.categories if c not in categories]
    if matched:
        raise DomainError(
            AIErrorCode.PROMPT_REJECTED,
            "The prompt contains terms this brand does not allow.",
            matched_terms=matched,
            categories=categories,
        )
