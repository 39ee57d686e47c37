"""The shopper's hot path: widget config cache (ETag / 304, invalidation, brand isolation),
credential cache revocation, and read-only transactions for routes that write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from tests.integration.demo import seed_catalog


def _config(client: Any, brand: Any, product_id: str, **headers: str) -> Any:
    return client.get(f"/api/v1/widget/config/{product_id}", headers=brand.h("pk", **headers))


def test_config_etag_304_and_a_new_product_version_invalidates(client, brand_a):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    first = _config(client, brand_a, pid)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong
    assert first.headers["etag"] == f'"{first.json()["version"]}"'
    for _ in range(2):  # the second answer comes from the cache
        again = _config(client, brand_a, pid, **{"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["etag"] == etag
        assert _config(client, brand_a, pid).json() == first.json()

    r = client.patch(f"/api/v1/products/{pid}", json={"name": "Renamed pendant"}, headers=brand_a.h())
    assert r.status_code == 200, r.text
    changed = _config(client, brand_a, pid, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["product"]["name"] == "Renamed pendant"
    assert changed.headers["etag"] != etag

    client.patch(f"/api/v1/products/{pid}", json={"status": "draft"}, headers=brand_a.h())
    assert _config(client, brand_a, pid).status_code == 404


def test_cached_config_is_never_served_to_another_brand(client, brand_a, brand_b):
    pid = seed_catalog(brand_a)["DEMO-MUG"]
    assert _config(client, brand_a, pid).status_code == 200
    assert _config(client, brand_a, pid).status_code == 200  # cached now
    for _ in range(2):
        other = _config(client, brand_b, pid)
        assert other.status_code == 404 and other.json()["code"] == "not_found"
    assert client.get(f"/api/v1/widget/config/{pid}", headers=brand_b.h("sk")).status_code == 404


def test_revoked_key_is_refused_at_once_in_the_same_process(client, brand_a):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    assert _config(client, brand_a, pid).status_code == 200
    assert _config(client, brand_a, pid).status_code == 200  # key and config both cached
    keys = client.get("/api/v1/api-keys", headers=brand_a.h()).json()["data"]
    pk_id = next(k["id"] for k in keys if k["kind"] == "publishable")
    assert client.delete(f"/api/v1/api-keys/{pk_id}", headers=brand_a.h()).status_code == 200
    refused = _config(client, brand_a, pid)
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key"


def test_other_processes_drop_a_revoked_key_within_the_ttl(settings, brand_a):
    from luneo.platform.auth import KeyRefused, Principal
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_tenant
    from luneo.tenancy import service
    from luneo.tenancy.credentials import CREDENTIAL_TTL_S, TenancyCredentialStore
    from luneo.tenancy.models import ApiKey

    now = [1000.0]
    elsewhere = TenancyCredentialStore(timer=lambda: now[0])  # another process's store
    assert isinstance(elsewhere.api_key(brand_a.pk), Principal)
    with get_db().transaction() as s:
        bind_tenant(s, brand_a.id)
        key = s.query(ApiKey).filter(ApiKey.kind == "publishable").one()
        service.revoke_api_key(s, key.id)
    now[0] += CREDENTIAL_TTL_S / 2
    assert isinstance(elsewhere.api_key(brand_a.pk), Principal)  # still inside its TTL
    now[0] += CREDENTIAL_TTL_S
    assert elsewhere.api_key(brand_a.pk) is KeyRefused.INVALID
    assert elsewhere.cached_api_key(brand_a.pk) is None


@contextmanager
def _recording(db: Any) -> Iterator[dict[str, list[Any]]]:
    seen: dict[str, list[Any]] = {"sql": [], "commits": [], "read_only": []}

    def before(conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        seen["sql"].append(statement.strip().split()[0].upper() + " " + statement.strip()[:60])
        if conn.dialect.name == "postgresql":
            seen["read_only"].append(conn.connection.dbapi_connection.read_only)

    def on_commit(_conn: Any) -> None:
        seen["commits"].append(True)

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "commit", on_commit)


@pytest.mark.parametrize("route", ["config", "validate"])
def test_read_only_routes_run_read_only_transactions(client, brand_a, db, route):
    from luneo.widget.service import config_cache

    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    body = {"product_id": pid, "inputs": {"arc_text": {"text": "Emma"}, "initial": {"text": "E"}}}
    headers = brand_a.h("pk", **{"X-Shopper-Token": "shopper-token-0123456789"})

    def call() -> Any:
        if route == "config":
            return client.get(f"/api/v1/widget/config/{pid}", headers=headers)
        return client.post("/api/v1/personalization/validate", json=body, headers=headers)

    assert call().status_code == 200  # first use of the key (its last_used_at write) happens here
    config_cache.clear()  # the config is read from the database again
    from luneo.catalog.service import forget_product_version
    from luneo.designs.brand_words import word_lists

    forget_product_version(brand_a.id, pid)  # so are the product's version and the word lists
    word_lists.clear()
    with _recording(db) as seen:
        r = call()
    assert r.status_code == 200, r.text
    assert seen["sql"], "the route did not query the database"
    writes = [s for s in seen["sql"] if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == [] and not any("IMMEDIATE" in s for s in seen["sql"])
    assert seen["commits"] == []  # ended by a rollback: no commit round trip
    if db.dialect == "postgresql":
        assert seen["read_only"] and all(seen["read_only"])  # BEGIN READ ONLY


def test_a_write_in_a_read_only_transaction_is_refused(db, brand_a):
    from luneo.platform.database import ReadOnlyTransactionError
    from luneo.platform.tenancy import bind_tenant
    from luneo.tenancy.models import ApiKey

    session = bind_tenant(db.session(write=False, read_only=True), brand_a.id)
    try:
        key = session.query(ApiKey).first()
        assert key is not None
        key.name = "changed"
        with pytest.raises(ReadOnlyTransactionError):
            session.flush()
    finally:
        session.rollback()
        session.close()


def test_shopper_routers_go_first_and_overlap_no_other_route(app):
    import re

    from luneo.app import SHOPPER_PATHS

    routers = [r for r in app.router.routes if hasattr(r, "original_router")]
    hot = [r for r in routers if any(x.path.startswith(SHOPPER_PATHS) for x in r.original_router.routes)]
    assert hot and routers.index(hot[-1]) < min(
        routers.index(r) for r in routers if r not in hot and r is not routers[0]
    )

    def sample(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "x1", path)

    def flat(group: list[Any]) -> list[tuple[Any, set[str]]]:
        return [(x, getattr(x, "methods", None) or set()) for r in group for x in r.original_router.routes]

    for h, h_methods in flat(hot):
        for o, o_methods in flat([r for r in routers if r not in hot]):
            if h_methods & o_methods:
                assert not o.path_regex.match(sample(h.path)), (h.path, o.path)
                assert not h.path_regex.match(sample(o.path)), (o.path, h.path)
