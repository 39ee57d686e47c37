"""SSRF-safe delivery targets: URL policy, address checks and a pinned, capped HTTP POST.

- Registration (`check_url`): `https` only (`http` only when `LUNEO_ENV=development`), a host,
  no credentials in the URL, and an IP-literal host must be a public address.
- Delivery (`post`): the host is resolved *at delivery time* (the resolver is injectable) and
  every address it resolves to must be public — no loopback, private, CGNAT, link-local (cloud
  metadata), multicast, reserved, documentation or unspecified ranges, IPv4 or IPv6, including
  IPv4 embedded in IPv6 (mapped, 6to4, Teredo, NAT64). The connection goes to the checked address
  (pinned: no second lookup), with the name as TLS SNI / certificate name and `Host`. Redirects
  are never followed (a 3xx is a failed attempt), the whole exchange has a time cap and at most
  `max_response_bytes` of the answer are read.
- `allow_private` (`LUNEO_WEBHOOKS_ALLOW_PRIVATE`, refused in production) admits loopback and
  private ranges for local development; link-local (metadata), multicast and unspecified
  addresses stay refused.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: `resolver(host, port) -> ["203.0.113.7", …]`: every address the name resolves to.
Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
#: Cloud metadata addresses outside link-local (refused even with `allow_private`).
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)


class TargetRefused(Exception):
    """The URL or an address it resolves to is not allowed (SSRF guard); never sent."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (A and AAAA), via the system resolver."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_v4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def refusal(address: str, *, allow_private: bool = False) -> str | None:
    """Why `address` may not be connected to (None: it may)."""
    try:
        addr: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(addr, ipaddress.IPv6Address):
        inner = _embedded_v4(addr)
        if inner is not None:
            why = refusal(str(inner), allow_private=allow_private)
            return f"{address} embeds {inner}: {why}" if why else None
    if addr in _METADATA:
        return f"{address} is a cloud metadata address"
    if addr.is_unspecified:
        return f"{address} is unspecified"
    if addr.is_multicast:
        return f"{address} is multicast"
    if addr.is_link_local:
        return f"{address} is link-local"
    if allow_private and (addr.is_loopback or addr.is_private or addr in _CGNAT):
        return None
    if addr.is_loopback:
        return f"{address} is loopback"
    if addr in _CGNAT:
        return f"{address} is carrier-grade NAT (100.64.0.0/10)"
    if addr.is_private:
        return f"{address} is private"
    if addr.is_reserved or not addr.is_global:
        return f"{address} is reserved, not a public address"
    return None


def check_url(url: str, *, allow_http: bool, allow_private: bool) -> str:
    """The URL if it may be registered, else `TargetRefused` (why). No DNS lookup here: names
    are resolved and checked at every delivery."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_http):
        raise TargetRefused(
            "the URL must use https" + ("" if scheme != "http" else " (http is development-only)")
        )
    host = parts.hostname
    if not host:
        raise TargetRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("credentials in the URL are not allowed")
    if port == 0:
        raise TargetRefused("port 0 is not allowed")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        local = host.rstrip(".").lower() == "localhost" or host.lower().endswith(".localhost")
        if local and not allow_private:
            raise TargetRefused("localhost is not allowed") from None
    else:
        why = refusal(host, allow_private=allow_private)
        if why:
            raise TargetRefused(why)
    return url.strip()


def resolve_checked(host: str, port: int, resolver: Resolver, *, allow_private: bool) -> str:
    """The address to connect to: every resolved address must be allowed (one bad address refuses
    the whole name, so a mixed answer cannot be raced)."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        addresses = resolver(host, port)
    else:
        addresses = [str(literal)]
    if not addresses:
        raise TargetRefused(f"{host} resolves to no address")
    for address in addresses:
        why = refusal(address, allow_private=allow_private)
        if why:
            raise TargetRefused(f"{host} resolves to a refused address: {why}")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._ctx = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    """What the receiver answered: status, the first bytes of the body, the address used."""

    status: int
    body: bytes
    address: str


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    resolver: Resolver,
    allow_http: bool,
    allow_private: bool,
    timeout_s: float = 10.0,
    max_response_bytes: int = 64 * 1024,
    ssl_context: ssl.SSLContext | None = None,
    method: str = "POST",
) -> Answer:
    """POST (or `method`) `body` to `url` through the SSRF guard (see the module). Raises
    `TargetRefused` before any connection when the target is not allowed,
    `OSError`/`HTTPException`/`TimeoutError` on network failures."""
    check_url(url, allow_http=allow_http, allow_private=allow_private)
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    address = resolve_checked(host, port, resolver, allow_private=allow_private)
    deadline = time.monotonic() + timeout_s
    conn: http.client.HTTPConnection
    if https:
        conn = _PinnedHTTPSConnection(
            host, port, address, timeout_s, ssl_context or ssl.create_default_context()
        )
    else:
        conn = _PinnedHTTPConnection(host, port, address, timeout_s)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(method, target, body=body, headers=headers)
        response = conn.getresponse()
        chunks: list[bytes] = []
        size = 0
        while size < max_response_bytes:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no complete answer within {timeout_s:g} s")
            chunk = response.read1(min(8192, max_response_bytes - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError(f"no complete answer within {timeout_s:g} s")
        return Answer(response.status, b"".join(chunks), address)
    finally:
        conn.close()
