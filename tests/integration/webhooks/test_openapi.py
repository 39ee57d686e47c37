"""The event catalogue is in the OpenAPI document's `webhooks` section: one POST per event type,
whose body schema is the envelope with that type's `data`, and it validates what is really sent."""

from __future__ import annotations

from typing import Any

from luneo.webhooks.events import EVENT_TYPES


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return _resolve(doc, doc["components"]["schemas"][ref.rsplit("/", 1)[1]])
    return schema


def test_openapi_json_documents_all_13_event_payloads(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    hooks = doc.get("webhooks") or {}
    assert sorted(hooks) == sorted(EVENT_TYPES) and len(hooks) == 13
    for event_type, item in hooks.items():
        op = item["post"]
        assert op["summary"] and "webhook-signature" in op["description"], event_type
        body = _resolve(doc, op["requestBody"]["content"]["application/json"]["schema"])
        assert set(body["required"]) >= {"type", "id", "timestamp", "data", "version"}, event_type
        assert body["properties"]["type"]["const"] == event_type
        data = _resolve(doc, body["properties"]["data"])
        assert data["properties"], event_type
    shipped = _resolve(
        doc,
        _resolve(doc, hooks["order.shipped"]["post"]["requestBody"]["content"]["application/json"]["schema"])[
            "properties"
        ]["data"],
    )
    assert {"order_id", "total_cents", "currency", "items", "tracking_number", "carrier"} <= set(
        shipped["properties"]
    )
    pack = _resolve(
        doc,
        _resolve(doc, hooks["pack.ready"]["post"]["requestBody"]["content"]["application/json"]["schema"])[
            "properties"
        ]["data"],
    )
    assert "pack" in pack["required"]
    # documentation only: no route was added for an event
    assert not [p for p in doc["paths"] for t in EVENT_TYPES if p.endswith(t)]


def test_the_models_accept_the_documented_examples() -> None:
    from luneo.webhooks.openapi import envelope

    env = {"id": "evt_1", "timestamp": "2026-11-30T09:12:03Z", "version": 1}
    work = {"work_order_id": "wo_1", "order_id": "ord_1", "order_item_id": "oitm_1"}
    envelope("work_order.status_changed").model_validate(
        {**env, "type": "work_order.status_changed", "data": {**work, "from": "ready", "to": "in_production"}}
    )
    envelope("pack.ready").model_validate(
        {
            **env,
            "type": "pack.ready",
            "data": {
                **work,
                "pack": {
                    "url": "https://x/p.zip",
                    "expires_at": "2026-12-07T06:00:00Z",
                    "sha256": "ab",
                    "size_bytes": 1,
                },
            },
        }
    )
    envelope("credits.low_balance").model_validate(
        {
            **env,
            "type": "credits.low_balance",
            "data": {"balance": 5, "last_topup": 50, "threshold": 10, "buy_url": "https://x/buy"},
        }
    )
