"""A local SFTP server for the hand-off tests: paramiko's `ServerInterface` (password and/or
public-key auth for one user) and `SFTPServer` with a `StubSFTPServer`-like handler serving a
root directory, listening on 127.0.0.1 in a thread.

`fail_opens = n` makes the next n file opens fail (a transient server error, for retry tests);
`auth_attempts` counts authentication attempts (none must happen when the host key is wrong)."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

import paramiko
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface
from paramiko.sftp import SFTP_FAILURE, SFTP_OK


class _Handle(SFTPHandle):
    def stat(self) -> Any:
        try:
            return SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))  # type: ignore[attr-defined]
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)

    def chattr(self, attr: Any) -> int:
        return SFTP_OK


class _Files(SFTPServerInterface):
    """Files under `server.root` (paths are confined to it)."""

    def __init__(self, server: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.owner: LocalSftpServer = server.owner

    def _real(self, path: str) -> str:
        root = str(self.owner.root)
        real = os.path.realpath(os.path.join(root, self.canonicalize(path).lstrip("/")))
        if real != root and not real.startswith(root + os.sep):
            raise PermissionError(path)
        return real

    def list_folder(self, path: str) -> Any:
        real = self._real(path)
        try:
            return [
                SFTPAttributes.from_stat(os.stat(os.path.join(real, name)), name) for name in os.listdir(real)
            ]
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)

    def stat(self, path: str) -> Any:
        try:
            return SFTPAttributes.from_stat(os.stat(self._real(path)))
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)

    lstat = stat

    def open(self, path: str, flags: int, attr: Any) -> Any:
        if self.owner.fail_opens > 0:
            self.owner.fail_opens -= 1
            return SFTP_FAILURE
        real = self._real(path)
        try:
            fd = os.open(real, flags | getattr(os, "O_BINARY", 0), 0o644)
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)
        mode = "wb" if flags & os.O_WRONLY else ("r+b" if flags & os.O_RDWR else "rb")
        if flags & os.O_APPEND:
            mode = "ab"
        handle = _Handle(flags)
        fobj = os.fdopen(fd, mode)
        handle.readfile = fobj  # type: ignore[attr-defined]
        handle.writefile = fobj  # type: ignore[attr-defined]
        return handle

    def remove(self, path: str) -> int:
        try:
            os.remove(self._real(path))
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)
        return SFTP_OK

    def rename(self, oldpath: str, newpath: str) -> int:
        real_new = self._real(newpath)
        if os.path.exists(real_new):
            return SFTP_FAILURE
        os.rename(self._real(oldpath), real_new)
        self.owner.renames.append((oldpath, newpath))
        return SFTP_OK

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        os.replace(self._real(oldpath), self._real(newpath))
        self.owner.renames.append((oldpath, newpath))
        return SFTP_OK

    def mkdir(self, path: str, attr: Any) -> int:
        try:
            os.mkdir(self._real(path))
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno)
        return SFTP_OK


class _Auth(paramiko.ServerInterface):
    def __init__(self, owner: LocalSftpServer) -> None:
        self.owner = owner

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        self.owner.auth_attempts += 1
        ok = username == self.owner.username and password == self.owner.password
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        self.owner.auth_attempts += 1
        allowed = self.owner.client_key
        ok = username == self.owner.username and allowed is not None and key.asbytes() == allowed.asbytes()
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return (
            paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        )


class LocalSftpServer:
    """`with LocalSftpServer(root, "shop", "pw") as s:` serves `root` on `127.0.0.1:s.port`."""

    def __init__(
        self,
        root: Path,
        username: str,
        password: str | None = None,
        client_key: paramiko.PKey | None = None,
    ) -> None:
        self.root = Path(os.path.realpath(root))
        self.username, self.password, self.client_key = username, password, client_key
        self.host_key = paramiko.ECDSAKey.generate()
        self.fail_opens = 0
        self.auth_attempts = 0
        self.renames: list[tuple[str, str]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._transports: list[paramiko.Transport] = []

    def _serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", SFTPServer, _Files)
            self._transports.append(transport)
            try:
                transport.start_server(server=_Auth(self))
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()

    def __enter__(self) -> LocalSftpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()
        for transport in self._transports:
            transport.close()
