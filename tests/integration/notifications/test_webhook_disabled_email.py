"""The `webhook_endpoint_disabled` email speaks French like the other emails (catalogue, not a
copy of the template), keeping the endpoint, the URL, the error and the API calls to recover."""

from __future__ import annotations

from typing import Any

import pytest

from luneo.platform.tenancy import bind_tenant

CONTEXT = {
    "endpoint_id": "whe_01m8sample",
    "url": "https://erp.example.com/luneo",
    "attempts": 8,
    "error": "HTTP 503",
}


def _render(db: Any, brand_id: str, lang: str) -> Any:
    from luneo.notifications.service import preview_email
    from luneo.tenancy.models import Brand

    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        brand = s.get(Brand, brand_id)
        return preview_email("webhook_endpoint_disabled", dict(CONTEXT), brand, lang=lang)


@pytest.mark.parametrize(
    ("lang", "subject", "phrase"),
    [
        ("en", "webhook endpoint disabled after repeated failures", "A webhook endpoint was disabled"),
        (
            "fr",
            "point de terminaison webhook désactivé après des échecs répétés",
            "Un point de terminaison webhook a été désactivé",
        ),
    ],
)
def test_the_disabled_endpoint_email_in_english_and_french(
    db: Any, brand_a: Any, lang: str, subject: str, phrase: str
) -> None:
    r = _render(db, brand_a.id, lang)
    assert subject in r.subject and phrase in r.text and phrase in r.html and f'lang="{lang}"' in r.html
    for part in (r.text, r.html):
        assert "https://erp.example.com/luneo" in part and "whe_01m8sample" in part and "HTTP 503" in part
        assert "/api/v1/webhook-endpoints/whe_01m8sample/replay-failed" in part
    if lang == "fr":
        assert "Last error" not in r.text and "Dernière erreur" in r.text
