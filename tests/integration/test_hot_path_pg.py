"""The shopper's hot path on PostgreSQL: a warm validate needs no query at all (the product's
version and the brand's word lists are remembered briefly), and what is remembered never
outlives a change made in this process nor crosses brands (row-level security on)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from tests.integration.demo import seed_catalog

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)

VALIDATE = "/api/v1/personalization/validate"


def _inputs(product_id: str, name: str = "Emma") -> dict[str, Any]:
    return {"product_id": product_id, "inputs": {"arc_text": {"text": name}, "initial": {"text": "E"}}}


def _validate(client: Any, brand: Any, product_id: str, name: str = "Emma") -> Any:
    return client.post(VALIDATE, json=_inputs(product_id, name), headers=brand.h("pk"))


def _codes(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [v["code"] for v in r.json()["violations"]]


@contextmanager
def _statements() -> Iterator[list[str]]:
    from luneo.platform.database import get_db

    seen: list[str] = []

    def record(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = get_db().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_warm_validate_sends_no_statement_and_spec_skips_product_and_brand(client, brand_a):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    assert _codes(_validate(client, brand_a, pid)) == []
    with _statements() as seen:
        assert _codes(_validate(client, brand_a, pid)) == []
    assert seen == []
    with _statements() as seen:
        r = client.post(
            "/api/v1/specs", json=_inputs(pid), headers=brand_a.h("pk", **{"X-Shopper-Token": "s" * 24})
        )
    assert r.status_code in (200, 201), r.text
    assert seen and not [s for s in seen if "FROM products" in s or "FROM brands" in s]


def test_product_change_in_this_process_shows_at_once(client, brand_a):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    assert _codes(_validate(client, brand_a, pid)) == []
    assert _codes(_validate(client, brand_a, pid)) == []  # version remembered now
    product = client.get(f"/api/v1/products/{pid}", headers=brand_a.h()).json()
    zone = next(z for z in product["zones"] if z["key"] == "arc_text")
    rules = {**zone["rules"], "max_chars": 2}
    r = client.patch(f"/api/v1/products/{pid}/zones/{zone['id']}", json={"rules": rules}, headers=brand_a.h())
    assert r.status_code == 200, r.text
    assert _codes(_validate(client, brand_a, pid)) == ["too_long"]
    assert client.delete(f"/api/v1/products/{pid}", headers=brand_a.h()).status_code == 204
    gone = _validate(client, brand_a, pid)
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"


def test_remembered_product_is_never_another_brands(client, brand_a, brand_b):
    pid = seed_catalog(brand_a)["DEMO-PENDANT"]
    for _ in range(2):
        assert _codes(_validate(client, brand_a, pid)) == []
    for _ in range(2):
        other = _validate(client, brand_b, pid)
        assert other.status_code == 404 and other.json()["code"] == "not_found"
    spec = client.post("/api/v1/specs", json=_inputs(pid), headers=brand_b.h("sk"))
    assert spec.status_code == 404, spec.text


def test_word_list_change_shows_at_once_and_stays_in_its_brand(client, brand_a, brand_b):
    pid_a = seed_catalog(brand_a)["DEMO-PENDANT"]
    pid_b = seed_catalog(brand_b)["DEMO-PENDANT"]
    for brand, pid in ((brand_a, pid_a), (brand_b, pid_b)):
        for _ in range(2):  # the second answer uses the remembered lists
            assert _codes(_validate(client, brand, pid, "Kevin")) == []
    r = client.patch("/api/v1/brand", json={"settings": {"blocked_words": ["kevin"]}}, headers=brand_a.h())
    assert r.status_code == 200, r.text
    assert _codes(_validate(client, brand_a, pid_a, "Kevin")) == ["blocked_word"]
    assert _codes(_validate(client, brand_b, pid_b, "Kevin")) == []
    spec = client.post("/api/v1/specs", json=_inputs(pid_a, "Kevin"), headers=brand_a.h("sk"))
    assert spec.status_code == 422 and spec.json()["code"] == "design_invalid", spec.text


def test_another_process_word_list_change_shows_when_the_entry_expires(db, brand_a):
    """A change this process did not make (raw SQL, as another process's) is seen after the TTL."""
    from luneo.designs.brand_words import BrandWordLists
    from luneo.platform.tenancy import bind_system, bind_tenant

    now = [0.0]
    lists = BrandWordLists(ttl_s=2.0, timer=lambda: now[0])

    def read() -> Any:
        with db.transaction(write=False) as s:
            return lists.get(bind_tenant(s, brand_a.id))

    assert read() == ((), ())
    with db.transaction() as s:
        bind_system(s)
        s.execute(
            text("update brands set settings = cast(:v as jsonb) where id = :id"),
            {"v": '{"blocked_words": ["kevin"]}', "id": brand_a.id},
        )
    assert read() == ((), ())  # still remembered
    now[0] += 2.5
    assert read() == (("kevin",), ())
