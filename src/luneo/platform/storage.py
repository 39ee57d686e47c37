"""File storage: local disk with HMAC-signed URLs (embedded) or any S3-compatible store.

Objects are content-addressed by default (`sha256/ab/cd/<sha256>`: same bytes, same key,
cacheable forever); derived files may use an explicit key. URLs are always short-lived and
signed: `LocalStorage` signs `/files/{key}?exp=…&sig=…` (served by `files_router`),
`S3Storage` presigns `GetObject`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import mimetypes
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated, Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from luneo.platform.config import Settings, get_settings
from luneo.platform.errors import NotFound, Problem
from luneo.platform.http import add_request_id_to_boto3

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*$")
_CAS_RE = re.compile(r"^sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")
_META_SUFFIX = ".meta.json"
IMMUTABLE = "public, max-age=31536000, immutable"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class StoredObject:
    """What `put` stored (and `head` reports)."""

    key: str
    sha256: str
    size: int
    content_type: str


class Storage(Protocol):
    """The storage interface every backend implements."""

    def put(self, data: bytes, *, content_type: str, key: str | None = None) -> StoredObject: ...

    def get(self, key: str) -> bytes: ...

    def head(self, key: str) -> StoredObject | None: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def url(self, key: str, *, expires_s: int, filename: str | None = None) -> str: ...

    def open_stream(self, key: str) -> IO[bytes]: ...


class ObjectNotFound(KeyError):
    """No object under that key."""


def content_key(sha256: str) -> str:
    """The content-addressed key of bytes whose SHA-256 is `sha256`."""
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def is_content_addressed(key: str) -> bool:
    m = _CAS_RE.match(key)
    return bool(m and m.group(3).startswith(m.group(1) + m.group(2)))


def validate_key(key: str) -> str:
    """Reject keys that could escape the store or confuse URLs (`..`, absolute, odd chars)."""
    if not key or len(key) > 512 or not _KEY_RE.match(key) or _META_SUFFIX in key:
        raise ValueError(f"invalid storage key: {key!r}")
    if any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


def _safe_filename(filename: str) -> str:
    name = re.sub(r"[\x00-\x1f\x7f\"\\/]", "_", filename).strip() or "download"
    return name[:200]


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the RFC 5987 UTF-8 name."""
    name = _safe_filename(filename)
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# --------------------------------------------------------------------------- local disk


def derive_signing_key(secret: str) -> bytes:
    """A storage-only subkey of the app secret (never sign with the raw secret)."""
    return hmac.new(secret.encode(), b"luneo.storage.url.v1", hashlib.sha256).digest()


class LocalStorage:
    """Files under `root` (atomic writes); URLs signed with HMAC-SHA256, served by `files_router`."""

    def __init__(self, root: Path | str, secret: str, base_url: str) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._key = derive_signing_key(secret)
        self.base_url = base_url.rstrip("/")

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def put(self, data: bytes, *, content_type: str, key: str | None = None) -> StoredObject:
        sha = hashlib.sha256(data).hexdigest()
        key = validate_key(key) if key is not None else content_key(sha)
        ctype = content_type or DEFAULT_CONTENT_TYPE
        obj = StoredObject(key=key, sha256=sha, size=len(data), content_type=ctype)
        path = self._path(key)
        if key == content_key(sha) and path.exists() and self.head(key) is not None:
            return obj  # content-addressed: already there, byte for byte
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"sha256": sha, "size": len(data), "content_type": obj.content_type}).encode()
        _atomic_write(path.with_name(path.name + _META_SUFFIX), meta)
        _atomic_write(path, data)
        return obj

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def head(self, key: str) -> StoredObject | None:
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            meta = json.loads(path.with_name(path.name + _META_SUFFIX).read_bytes())
            return StoredObject(key, str(meta["sha256"]), int(meta["size"]), str(meta["content_type"]))
        except (FileNotFoundError, ValueError, KeyError):
            data = path.read_bytes()
            guessed = mimetypes.guess_type(path.name)[0] or DEFAULT_CONTENT_TYPE
            return StoredObject(key, hashlib.sha256(data).hexdigest(), len(data), guessed)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        for p in (path, path.with_name(path.name + _META_SUFFIX)):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def open_stream(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise ObjectNotFound(key) from None

    def file_path(self, key: str) -> Path:
        """The file on disk (for the files route)."""
        return self._path(key)

    # -- signed URLs
    def _sign(self, key: str, exp: int, filename: str | None) -> str:
        msg = f"{key}\n{exp}\n{filename or ''}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()

    def url(self, key: str, *, expires_s: int, filename: str | None = None) -> str:
        validate_key(key)
        exp = int(time.time()) + int(expires_s)
        params: dict[str, str] = {"exp": str(exp)}
        if filename:
            params["fn"] = _safe_filename(filename)
        params["sig"] = self._sign(key, exp, params.get("fn"))
        return f"{self.base_url}/files/{quote(key, safe='/')}?{urlencode(params)}"

    def verify_signature(
        self, key: str, exp: int | str, sig: str, filename: str | None = None, *, now: float | None = None
    ) -> bool:
        """True if `sig` signs (key, exp, filename) with our key and `exp` is in the future."""
        try:
            exp_i = int(exp)
        except (TypeError, ValueError):
            return False
        if exp_i < int(now if now is not None else time.time()):
            return False
        try:
            validate_key(key)
        except ValueError:
            return False
        return hmac.compare_digest(self._sign(key, exp_i, filename or None), sig or "")


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------- S3


class S3Storage:
    """Any S3-compatible store (AWS, MinIO, R2…) through boto3; URLs are presigned GETs."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        *,
        client: Any = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or add_request_id_to_boto3(
            boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                config=Config(
                    signature_version="s3v4",
                    s3={"addressing_style": "path" if endpoint_url else "auto"},
                    retries={"max_attempts": 3, "mode": "standard"},
                ),
            )
        )

    def _k(self, key: str) -> str:
        return self.prefix + validate_key(key)

    @staticmethod
    def _missing(exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, data: bytes, *, content_type: str, key: str | None = None) -> StoredObject:
        sha = hashlib.sha256(data).hexdigest()
        key = validate_key(key) if key is not None else content_key(sha)
        ctype = content_type or DEFAULT_CONTENT_TYPE
        extra: dict[str, Any] = {}
        if is_content_addressed(key):
            extra["CacheControl"] = IMMUTABLE
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._k(key),
            Body=data,
            ContentType=ctype,
            Metadata={"sha256": sha},
            **extra,
        )
        return StoredObject(key=key, sha256=sha, size=len(data), content_type=ctype)

    def get(self, key: str) -> bytes:
        with self.open_stream(key) as body:
            return body.read()

    def head(self, key: str) -> StoredObject | None:
        from botocore.exceptions import ClientError

        try:
            r = self.client.head_object(Bucket=self.bucket, Key=self._k(key))
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise
        sha = (r.get("Metadata") or {}).get("sha256", "")
        return StoredObject(key, sha, int(r["ContentLength"]), r.get("ContentType") or DEFAULT_CONTENT_TYPE)

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._k(key))

    def open_stream(self, key: str) -> IO[bytes]:
        from botocore.exceptions import ClientError

        try:
            r = self.client.get_object(Bucket=self.bucket, Key=self._k(key))
        except ClientError as exc:
            if self._missing(exc):
                raise ObjectNotFound(key) from None
            raise
        body: Any = r["Body"]  # botocore StreamingBody: read(), close(), context manager
        stream: IO[bytes] = body
        return stream

    def url(self, key: str, *, expires_s: int, filename: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._k(key)}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        url: str = self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=int(expires_s))
        return url


# --------------------------------------------------------------------------- selection


def storage_from_settings(settings: Settings) -> Storage:
    """`LUNEO_STORAGE_URL=s3://bucket/prefix` (+ `LUNEO_S3_ENDPOINT_URL`) ⇒ S3; `file:///dir` or
    unset ⇒ local disk (default `<data_dir>/storage`)."""
    url = settings.storage_url
    if url and url.startswith("s3://"):
        parts = urlsplit(url)
        if not parts.netloc:
            raise ValueError("LUNEO_STORAGE_URL must be s3://bucket[/prefix]")
        return S3Storage(parts.netloc, parts.path.lstrip("/"), settings.s3_endpoint_url, settings.s3_region)
    root = Path(urlsplit(url).path) if url and url.startswith("file://") else settings.storage_dir
    if url and not url.startswith("file://"):
        raise ValueError(f"unsupported LUNEO_STORAGE_URL scheme: {url.split(':', 1)[0]}")
    return LocalStorage(root, settings.secret_key.get_secret_value(), settings.public_base_url)


_storage: Storage | None = None
_storage_lock = threading.Lock()


def get_storage() -> Storage:
    """The process-wide storage backend, built from the settings on first use."""
    global _storage
    if _storage is None:
        with _storage_lock:
            if _storage is None:
                _storage = storage_from_settings(get_settings())
    return _storage


def set_storage(storage: Storage | None) -> None:
    """Replace the process-wide storage (tests, CLI)."""
    global _storage
    _storage = storage


def verify_signature(key: str, exp: int | str, sig: str, filename: str | None = None) -> bool:
    """Check a local signed URL's signature against the process-wide local storage."""
    storage = get_storage()
    return isinstance(storage, LocalStorage) and storage.verify_signature(key, exp, sig, filename)


# --------------------------------------------------------------------------- files route

files_router = APIRouter(tags=["files"])


def _storage_dep() -> Storage:
    return get_storage()


StorageDep = Annotated[Storage, Depends(_storage_dep)]


@files_router.get("/files/{key:path}", include_in_schema=False, response_model=None)
def serve_file(
    key: str,
    request: Request,
    storage: StorageDep,
    exp: str = "",
    sig: str = "",
    fn: str | None = None,
) -> Response:
    """Serve a file from local storage to the holder of a valid, unexpired signed URL."""
    if not isinstance(storage, LocalStorage):
        raise NotFound("file")
    if not storage.verify_signature(key, exp, sig, fn):
        raise Problem(403, "invalid_signature", "The file URL is invalid or has expired.", title="Forbidden")
    obj = storage.head(key)
    if obj is None:
        raise NotFound("file")
    etag = f'"{obj.sha256}"'
    if is_content_addressed(key):
        cache = IMMUTABLE
    else:
        cache = f"private, max-age={max(0, int(exp) - int(time.time()))}"
    headers = {"ETag": etag, "Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if fn:
        headers["Content-Disposition"] = content_disposition(fn)
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return FileResponse(storage.file_path(key), media_type=obj.content_type, headers=headers)


def iter_stream(stream: IO[bytes], chunk: int = 64 * 1024) -> Iterator[bytes]:
    """Read a stream in chunks, closing it at the end."""
    with stream:
        while data := stream.read(chunk):
            yield data
