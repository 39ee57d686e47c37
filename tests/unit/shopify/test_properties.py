"""The line-item property signature (contract v1) against the shared vector the JS side uses too."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from luneo.integrations.shopify import service

VECTOR = json.loads(
    (Path(__file__).resolve().parents[2] / "integration" / "shopify" / "property_vector.json").read_text(
        "utf-8"
    )
)


def test_addons_are_the_priced_zones_with_their_grapheme_counts_in_zone_order():
    assert service.addons_string(VECTOR["spec"]) == "name=4,photo=0" == VECTOR["addons"]
    assert service.addons_string({"product": {"zones": []}, "inputs": {}}) == ""


def test_message_and_signature_match_the_vector_byte_for_byte():
    v = VECTOR
    message = (
        "v1\n" + v["snapshot_id"] + "\n" + v["spec_hash"] + "\n" + v["preview"] + "\n" + "name=4,photo=0"
    )
    assert (
        service.property_message(v["snapshot_id"], v["spec_hash"], v["preview"], v["addons"])
        == message
        == v["message"]
    )
    expected = hmac.new(v["property_secret"].encode(), message.encode("utf-8"), hashlib.sha256).hexdigest()
    assert (
        service.sign_properties(
            v["property_secret"], v["snapshot_id"], v["spec_hash"], v["preview"], v["addons"]
        )
        == expected
        == v["sig"]
    )


def test_verify_round_trip_and_tampering():
    v = VECTOR
    props = {
        "_luneo_snapshot": v["snapshot_id"],
        "_luneo_spec_hash": v["spec_hash"],
        "_luneo_preview": v["preview"],
        "_luneo_addons": v["addons"],
        "_luneo_sig": v["sig"],
    }
    assert service.verify_properties(v["property_secret"], props)
    assert not service.verify_properties("another-secret", props)
    for name, forged in (
        ("_luneo_addons", "name=1,photo=0"),
        ("_luneo_snapshot", "snap_other"),
        ("_luneo_sig", "0" * 64),
    ):
        assert not service.verify_properties(v["property_secret"], {**props, name: forged})
    assert not service.verify_properties(
        v["property_secret"], {k: p for k, p in props.items() if k != "_luneo_addons"}
    )


def test_visible_properties_are_the_filled_text_zones_by_label():
    assert (
        service.visible_properties(VECTOR["spec"])
        == {"Name": "Emma", "Note": "Zoë 👍🏽"}
        == VECTOR["visible_properties"]
    )
