"""The SFTP hand-off: one pack uploaded to a print shop's SFTP server (paramiko).

- SSRF: the host is resolved and every address checked by the outgoing webhooks' guard
  (`luneo.webhooks.public.resolve_checked`: public addresses only, unless
  `LUNEO_WEBHOOKS_ALLOW_PRIVATE` outside production); the TCP connection goes to the checked
  address (no second lookup).
- The server's host key must match the pinned fingerprint (`SHA256:<base64>`, as
  `ssh-keygen -lf` prints it) before any credential is sent; otherwise `Permanent`.
- Authentication: password or private key (OpenSSH/PEM text: Ed25519, ECDSA or RSA).
- Atomic upload: the bytes go to `<name>.part`, then are renamed to `<name>` (POSIX rename when
  the server has it), so the print shop never picks up half a ZIP.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import posixpath
import socket
from dataclasses import dataclass

import paramiko

from luneo.webhooks import public as webhooks

TIMEOUT_S = 30.0


class Permanent(Exception):
    """Retrying cannot help until the brand fixes the configuration (host key, credentials, SSRF)."""


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    username: str
    host_key: str
    directory: str
    password: str | None = None
    private_key: str | None = None


def fingerprint(key: paramiko.PKey) -> str:
    """`SHA256:<unpadded base64>` of the key's public blob (OpenSSH's format)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def normalise_fingerprint(value: str) -> str:
    """`SHA256:xyz` from `SHA256:xyz`, `xyz` or `xyz=` (ValueError when it is not 32 bytes)."""
    text = value.strip()
    if text.upper().startswith("SHA256:"):
        text = text[7:]
    text = text.rstrip("=")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        raise ValueError("not a SHA256 fingerprint") from None
    if len(raw) != 32:
        raise ValueError("not a SHA256 fingerprint")
    return "SHA256:" + text


def load_private_key(text: str) -> paramiko.PKey:
    """A private key from its OpenSSH/PEM text (ValueError when none of the key types reads it)."""
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, ValueError, IndexError, TypeError):
            continue
    raise ValueError("not a readable private key (Ed25519, ECDSA or RSA, unencrypted)")


def upload(
    server: Server,
    filename: str,
    data: bytes,
    *,
    allow_private: bool,
    resolver: webhooks.Resolver = webhooks.system_resolver,
    timeout_s: float = TIMEOUT_S,
) -> str:
    """Upload `data` as `<directory>/<filename>` (atomically); the remote path. `Permanent` when
    the configuration is at fault, `OSError` / `paramiko.SSHException` on transient failures."""
    try:
        address = webhooks.resolve_checked(server.host, server.port, resolver, allow_private=allow_private)
    except webhooks.TargetRefused as exc:
        raise Permanent(f"refused: {exc}") from None
    sock = socket.create_connection((address, server.port), timeout_s)
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = transport.auth_timeout = timeout_s
        transport.start_client(timeout=timeout_s)
        seen = fingerprint(transport.get_remote_server_key())
        if seen != normalise_fingerprint(server.host_key):
            raise Permanent(f"host key mismatch: the server presented {seen}, {server.host_key} is pinned")
        try:
            if server.private_key:
                transport.auth_publickey(server.username, load_private_key(server.private_key))
            else:
                transport.auth_password(server.username, server.password or "")
        except paramiko.AuthenticationException as exc:
            raise Permanent(f"authentication failed for {server.username}: {exc}") from None
        client = paramiko.SFTPClient.from_transport(transport)
        if client is None:
            raise paramiko.SSHException("the server opened no SFTP channel")
        with client:
            final = posixpath.join(server.directory or ".", filename)
            part = final + ".part"
            client.putfo(io.BytesIO(data), part, file_size=len(data), confirm=True)
            try:
                client.posix_rename(part, final)
            except OSError:
                with contextlib.suppress(OSError):
                    client.remove(final)
                client.rename(part, final)
            return final
    finally:
        transport.close()
