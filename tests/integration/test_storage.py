"""Storage: local round trip, signed URLs and the files route; S3 against moto in server mode."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from luneo.platform.config import Settings
from luneo.platform.errors import install_error_handlers
from luneo.platform.storage import (
    IMMUTABLE,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    _storage_dep,
    content_key,
    files_router,
    storage_from_settings,
    validate_key,
)

SECRET = "test-secret-0123456789abcdef0123456789"


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage", SECRET, "http://testserver")


@pytest.fixture
def client(local: LocalStorage) -> Iterator[TestClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(files_router)
    app.dependency_overrides[_storage_dep] = lambda: local
    with TestClient(app) as c:
        yield c


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_local_round_trip_is_content_addressed_and_atomic(local: LocalStorage) -> None:
    data = b"\x89PNG fake image bytes"
    sha = hashlib.sha256(data).hexdigest()
    obj = local.put(data, content_type="image/png")
    assert obj.key == f"sha256/{sha[:2]}/{sha[2:4]}/{sha}" == content_key(sha)
    assert (obj.sha256, obj.size, obj.content_type) == (sha, len(data), "image/png")
    assert local.get(obj.key) == data
    assert local.exists(obj.key)
    with local.open_stream(obj.key) as f:
        assert f.read() == data
    assert local.put(data, content_type="image/png") == obj  # same bytes ⇒ same key
    leftovers = [p for p in local.root.rglob(".tmp-*")]
    assert leftovers == []
    derived = local.put(b"<svg/>", content_type="image/svg+xml", key="renders/r1/preview.svg")
    assert derived.key == "renders/r1/preview.svg"
    assert local.head(derived.key) == derived
    local.delete(obj.key)
    assert not local.exists(obj.key)
    with pytest.raises(ObjectNotFound):
        local.get(obj.key)
    local.delete(obj.key)  # idempotent


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "/abs", "a/../b", "a//b", "", "a\\b", "x.meta.json", "a/./b"]
)
def test_keys_that_escape_the_store_are_rejected(local: LocalStorage, bad: str) -> None:
    with pytest.raises(ValueError):
        validate_key(bad)
    with pytest.raises(ValueError):
        local.put(b"x", content_type="text/plain", key=bad)


def test_signed_url_serves_the_file_with_immutable_caching(local: LocalStorage, client: TestClient) -> None:
    data = b"hello world"
    obj = local.put(data, content_type="text/plain")
    url = local.url(obj.key, expires_s=60)
    assert url.startswith("http://testserver/files/sha256/")
    r = client.get(path_of(url))
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["etag"] == f'"{obj.sha256}"'
    assert r.headers["cache-control"] == IMMUTABLE
    r304 = client.get(path_of(url), headers={"If-None-Match": f'"{obj.sha256}"'})
    assert r304.status_code == 304 and r304.content == b""


def test_explicit_key_with_download_filename(local: LocalStorage, client: TestClient) -> None:
    obj = local.put(b"PK\x03\x04zip", content_type="application/zip", key="exports/wo_1/pack.zip")
    url = local.url(obj.key, expires_s=60, filename="Commande n°42.zip")
    r = client.get(path_of(url))
    assert r.status_code == 200 and r.content == b"PK\x03\x04zip"
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["cache-control"].startswith("private, max-age=")
    assert "filename*=UTF-8''Commande%20n%C2%B042.zip" in r.headers["content-disposition"]


def test_tampered_and_expired_signatures_are_rejected(local: LocalStorage, client: TestClient) -> None:
    a = local.put(b"secret a", content_type="text/plain", key="private/a.txt")
    local.put(b"secret b", content_type="text/plain", key="private/b.txt")
    url = local.url(a.key, expires_s=60)
    q = parse_qs(urlsplit(url).query)
    exp, sig = q["exp"][0], q["sig"][0]
    assert local.verify_signature(a.key, exp, sig)
    cases = {
        "other key": f"/files/private/b.txt?exp={exp}&sig={sig}",
        "later expiry": f"/files/private/a.txt?exp={int(exp) + 3600}&sig={sig}",
        "flipped sig": f"/files/private/a.txt?exp={exp}&sig={sig[:-1]}{'0' if sig[-1] != '0' else '1'}",
        "no sig": f"/files/private/a.txt?exp={exp}",
        "added filename": f"/files/private/a.txt?exp={exp}&sig={sig}&fn=x.txt",
    }
    for what, path in cases.items():
        r = client.get(path)
        assert r.status_code == 403, what
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "invalid_signature"
    expired = local.url(a.key, expires_s=-1)
    r = client.get(path_of(expired))
    assert r.status_code == 403
    assert not local.verify_signature(
        a.key, int(time.time()) - 1, local._sign(a.key, int(time.time()) - 1, None)
    )
    other = LocalStorage(local.root, "another-secret-0123456789abcdef", "http://testserver")
    assert not other.verify_signature(a.key, exp, sig)


def test_signed_url_for_missing_file_is_404(local: LocalStorage, client: TestClient) -> None:
    url = local.url("private/missing.txt", expires_s=60)
    r = client.get(path_of(url))
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_storage_from_settings(tmp_path: Path) -> None:
    s = storage_from_settings(Settings(data_dir=tmp_path, storage_url=None))
    assert isinstance(s, LocalStorage) and s.root == tmp_path / "storage"
    s3 = storage_from_settings(
        Settings(
            data_dir=tmp_path, storage_url="s3://bucket/some/prefix", s3_endpoint_url="http://127.0.0.1:9"
        )
    )
    assert isinstance(s3, S3Storage) and s3.bucket == "bucket" and s3.prefix == "some/prefix/"
    with pytest.raises(ValueError):
        storage_from_settings(Settings(data_dir=tmp_path, storage_url="ftp://x"))


# -- S3 through moto's server mode (a real HTTP endpoint)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Storage:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    storage = S3Storage("luneo-test", "tenant-files", moto_endpoint, "us-east-1")
    storage.client.create_bucket(Bucket="luneo-test")
    return storage


def test_s3_put_get_exists_delete(s3: S3Storage) -> None:
    data = b"%PDF-1.7 production pack"
    obj = s3.put(data, content_type="application/pdf")
    assert obj.key == content_key(hashlib.sha256(data).hexdigest())
    raw = s3.client.get_object(Bucket="luneo-test", Key="tenant-files/" + obj.key)
    assert raw["ContentType"] == "application/pdf" and raw["CacheControl"] == IMMUTABLE
    assert s3.get(obj.key) == data
    assert s3.exists(obj.key)
    assert s3.head(obj.key) == obj
    with s3.open_stream(obj.key) as body:
        assert body.read() == data
    s3.delete(obj.key)
    assert not s3.exists(obj.key)
    assert s3.head(obj.key) is None
    with pytest.raises(ObjectNotFound):
        s3.get(obj.key)


def test_s3_presigned_url_fetch(s3: S3Storage) -> None:
    obj = s3.put(b"PNGDATA", content_type="image/png", key="renders/r_1/preview.png")
    url = s3.url(obj.key, expires_s=120, filename="preview.png")
    assert "X-Amz-Signature=" in url
    r = httpx.get(url)
    assert r.status_code == 200
    assert r.content == b"PNGDATA"
    assert r.headers["content-type"] == "image/png"
    assert "preview.png" in r.headers["content-disposition"]
    tampered = url.replace("renders/r_1/preview.png", "renders/r_1/other.png")
    assert httpx.get(tampered).status_code == 403
