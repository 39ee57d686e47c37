"""Stripe-Signature verification against the derived vector and the official SDK."""

from __future__ import annotations

import json

import pytest
import stripe

from luneo.payments.signatures import SignatureError, compute_signature, sign_header, verify_header
from tests.unit.payments.fakes import VECTORS

VECTOR = json.loads((VECTORS / "derived_signature_vector.json").read_text())
PAYLOAD = (VECTORS / VECTOR["payload_file"]).read_bytes()
SECRET, T, HEADER = VECTOR["secret"], VECTOR["timestamp"], VECTOR["header"]
CASES = {c["name"]: c for c in VECTOR["cases"]}


def test_payload_is_the_vector_payload():
    import hashlib

    assert hashlib.sha256(PAYLOAD).hexdigest() == VECTOR["payload_sha256"]


def test_signing_reproduces_the_vector_header():
    assert sign_header(SECRET, PAYLOAD, T) == HEADER
    assert stripe.WebhookSignature.generate_signature_header(PAYLOAD.decode(), SECRET, T) == HEADER


def test_valid_with_frozen_clock():
    assert verify_header(PAYLOAD, HEADER, SECRET, now=CASES["valid_with_frozen_clock"]["now"]) == T


def test_too_old_is_rejected():
    with pytest.raises(SignatureError, match="tolerance"):
        verify_header(PAYLOAD, HEADER, SECRET, now=CASES["too_old"]["now"])
    # just inside the 5-minute window is still fine
    assert verify_header(PAYLOAD, HEADER, SECRET, now=T + 300) == T


def test_future_timestamp_outside_tolerance_is_rejected():
    with pytest.raises(SignatureError):
        verify_header(PAYLOAD, HEADER, SECRET, now=T - 301)


def test_extra_signatures_rotation_accepts_any_matching_v1():
    case = CASES["extra_signatures_rotation"]
    assert verify_header(PAYLOAD, case["header"], SECRET, now=case["now"]) == T


def test_only_wrong_v1_signatures_are_rejected():
    header = f"t={T},v1={'0' * 64},v1={compute_signature('whsec_other', T, PAYLOAD)}"
    with pytest.raises(SignatureError, match="No signature matches"):
        verify_header(PAYLOAD, header, SECRET, now=T)


def test_no_v1_is_rejected():
    with pytest.raises(SignatureError, match="v1"):
        verify_header(PAYLOAD, CASES["no_v1"]["header"], SECRET, now=T)


@pytest.mark.parametrize("header", ["garbage", "t=abc,v1=00", "", None, "v1=" + "0" * 64])
def test_malformed_header_is_rejected(header):
    with pytest.raises(SignatureError):
        verify_header(PAYLOAD, header, SECRET, now=T)


def test_tampered_body_is_rejected():
    with pytest.raises(SignatureError):
        verify_header(PAYLOAD + b" ", HEADER, SECRET, now=CASES["tampered_body"]["now"])


def test_wrong_secret_is_rejected():
    with pytest.raises(SignatureError):
        verify_header(PAYLOAD, HEADER, "whsec_wrong", now=T)
    with pytest.raises(SignatureError):
        verify_header(PAYLOAD, HEADER, "", now=T)


@pytest.mark.parametrize("body", [b'{"id":"evt_1","type":"x"}', '{"name":"Café ✓"}'.encode()])
def test_agrees_with_the_official_sdk(body):
    header = sign_header("whsec_abc", body, 1_800_000_000)
    assert stripe.WebhookSignature.verify_header(body, header, "whsec_abc", tolerance=None)
    assert verify_header(body, header, "whsec_abc", tolerance_s=None) == 1_800_000_000
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body + b"x", header, "whsec_abc", tolerance=None)
    with pytest.raises(SignatureError):
        verify_header(body + b"x", header, "whsec_abc", tolerance_s=None)
