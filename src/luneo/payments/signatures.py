"""Stripe-style webhook signatures: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`.

v1 = hex(HMAC-SHA256(key=secret as UTF-8 (the `whsec_` string itself), msg=f"{t}.{raw body}")).
A header is accepted when any v1 signature matches (secret rotation sends several) and the
timestamp is within the tolerance of now (default 5 minutes, both directions).
"""

from __future__ import annotations

import hashlib
import hmac
import time

DEFAULT_TOLERANCE_S = 300
SCHEME = "v1"


class SignatureError(Exception):
    """A webhook whose signature is missing, malformed, wrong or outside the time tolerance."""


def compute_signature(secret: str, timestamp: int, payload: bytes) -> str:
    """Hex HMAC-SHA256 of `{timestamp}.{payload}` keyed with the secret string."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()


def sign_header(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value Stripe would send for this body."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},{SCHEME}={compute_signature(secret, t, payload)}"


def parse_header(header: str) -> tuple[int, list[str]]:
    """(timestamp, v1 signatures) of a header; raises SignatureError when malformed."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("Unable to extract timestamp from header") from None
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("Unable to extract timestamp and signatures from header")
    if not signatures:
        raise SignatureError(f"No signatures found with expected scheme {SCHEME}")
    return timestamp, signatures


def verify_header(
    payload: bytes,
    header: str | None,
    secret: str | None,
    *,
    tolerance_s: int | None = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> int:
    """Check a `Stripe-Signature` header against the raw body; returns the signed timestamp."""
    if not header:
        raise SignatureError("No Stripe-Signature header")
    if not secret:
        raise SignatureError("No webhook secret configured")
    timestamp, signatures = parse_header(header)
    expected = compute_signature(secret, timestamp, payload)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise SignatureError("No signature matches the payload")
    if tolerance_s is not None:
        current = time.time() if now is None else now
        if abs(current - timestamp) > tolerance_s:
            raise SignatureError("Timestamp outside the tolerance zone")
    return timestamp
