"""The generic HTTPS hand-off: one pack to a print shop's endpoint, signed, SSRF-guarded.

Request: `PUT` of the ZIP (`application/zip`) or `POST` multipart with the ZIP as field `pack`.
Headers: `X-Luneo-Timestamp` (Unix seconds), `X-Luneo-Signature: v1=<hex HMAC-SHA256 of
"<timestamp>." + the ZIP bytes, keyed with the target's secret>`, `X-Luneo-Order`,
`X-Luneo-Work-Order`, `X-Luneo-Pack-Sha256`, `Idempotency-Key` (the hand-off id: the same pack
retried carries the same key).

SSRF guard: the outgoing webhooks' one (`luneo.webhooks.public`: `check_url`, `pinned_post`) —
`https` only (`http` only when `LUNEO_ENV=development`), no credentials in the URL, every address
the host resolves to at send time must be public (`LUNEO_WEBHOOKS_ALLOW_PRIVATE=true` admits
loopback/private for local development), and the connection goes to the checked address (no
second lookup: a DNS answer that changes after the check cannot redirect it). Redirects are not
followed; the answer is capped in time and size.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import ssl
import time

from luneo.webhooks import public as webhooks

Resolver = webhooks.Resolver
Refused = webhooks.TargetRefused
system_resolver = webhooks.system_resolver
Answer = webhooks.PinnedAnswer
TIMEOUT_S = 30.0
#: TLS context of the hand-off (None: the system's trust store; tests trust their local CA here).
TLS_VERIFY: ssl.SSLContext | None = None


def check_url(url: str, *, development: bool, allow_private: bool = True) -> str:
    """The URL if a target may be registered with it (addresses are checked at send), else `Refused`."""
    return webhooks.check_url(url, allow_http=development, allow_private=allow_private)


def sign(secret: str, timestamp: int, data: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + data, hashlib.sha256).hexdigest()


def _multipart(filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "luneo-" + secrets.token_hex(16)
    safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="pack"; filename="{safe}"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def send(
    url: str,
    method: str,
    secret: str,
    data: bytes,
    meta: dict[str, str],
    *,
    development: bool,
    allow_private: bool,
    resolver: Resolver = system_resolver,
) -> Answer:
    """Check the target, then send the pack once to the checked address (no redirects); the
    caller classifies the answer. `Refused` before any connection, `OSError`/`HTTPException` on
    network failures."""
    ts = int(time.time())
    headers = {
        "X-Luneo-Timestamp": str(ts),
        "X-Luneo-Signature": sign(secret, ts, data),
        "X-Luneo-Order": meta["order_id"],
        "X-Luneo-Work-Order": meta["work_order_id"],
        "X-Luneo-Pack-Sha256": meta["sha256"],
        "Idempotency-Key": meta["handoff_id"],
        "User-Agent": "Luneo fulfilment",
    }
    if method == "PUT":
        body, headers["Content-Type"] = data, "application/zip"
    else:
        body, headers["Content-Type"] = _multipart(meta["filename"], data)
    return webhooks.pinned_post(
        url,
        body,
        headers,
        resolver=resolver,
        allow_http=development,
        allow_private=allow_private,
        timeout_s=TIMEOUT_S,
        ssl_context=TLS_VERIFY,
        method=method,
    )
