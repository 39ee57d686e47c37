"""The generic hand-off: one pack to a print shop's HTTPS endpoint, signed, SSRF-guarded.

Request: `PUT` of the ZIP (`application/zip`) or `POST` multipart with the ZIP as field `pack`.
Headers: `X-Luneo-Timestamp` (Unix seconds), `X-Luneo-Signature: v1=<hex HMAC-SHA256 of
"<timestamp>." + the ZIP bytes, keyed with the target's secret>`, `X-Luneo-Order`,
`X-Luneo-Work-Order`, `X-Luneo-Pack-Sha256`, `Idempotency-Key` (the hand-off id: the same pack
retried carries the same key).

SSRF guard (the same rules as outgoing webhooks; `luneo.webhooks.public` does not export its
guard, so this is a small local copy): `https` only (`http` only when `LUNEO_ENV=development`),
no credentials in the URL, and every address the host resolves to at send time must be public
(`LUNEO_WEBHOOKS_ALLOW_PRIVATE=true` admits loopback/private for local development; link-local,
metadata, multicast and unspecified stay refused). Redirects are not followed.
Limitation: the connection resolves the name again (not pinned to the checked address).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

Resolver = Callable[[str, int], list[str]]
TIMEOUT_S = 30.0
#: TLS verification for the hand-off (tests trust their local CA here).
TLS_VERIFY: ssl.SSLContext | bool = True
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class Refused(Exception):
    """The URL or an address it resolves to is not allowed: nothing is sent."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, *, development: bool) -> tuple[str, int]:
    """(host, port) of an allowed URL (registration-time rules), else `Refused`."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not development):
        raise Refused("the endpoint must be https")
    if not parts.hostname:
        raise Refused("the endpoint has no host")
    if parts.username or parts.password:
        raise Refused("credentials in the URL are not allowed")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname, port


def address_allowed(addr: str, *, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA or ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        return False
    if ip.is_global:
        return True
    return allow_private and (ip.is_loopback or ip.is_private)


def check_target(url: str, *, development: bool, allow_private: bool, resolver: Resolver) -> None:
    host, port = check_url(url, development=development)
    addresses = resolver(host, port)
    if not addresses:
        raise Refused(f"{host} resolves to no address")
    for addr in addresses:
        if not address_allowed(addr, allow_private=allow_private):
            raise Refused(f"{host} resolves to {addr}, which is not a public address")


def sign(secret: str, timestamp: int, data: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + data, hashlib.sha256).hexdigest()


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
) -> httpx.Response:
    """Check the target, then send the pack once (no redirects); the caller classifies the answer."""
    check_target(url, development=development, allow_private=allow_private, resolver=resolver)
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
    kwargs: dict[str, Any] = {"headers": headers}
    if method == "PUT":
        headers["Content-Type"] = "application/zip"
        kwargs["content"] = data
    else:
        kwargs["files"] = {"pack": (meta["filename"], data, "application/zip")}
    with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, verify=TLS_VERIFY, trust_env=False) as http:
        return http.request(method, url, **kwargs)
