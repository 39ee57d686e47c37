"""The production topology as processes (issue 12, item 12): two `luneo serve` and two
`luneo worker` on PostgreSQL + Redis + the moto S3 server carry a paid order to ready packs.

The order is placed through API #1 and paid (dev provider's hosted checkout) through API #2;
every item's pack must become `ready`, built by a worker process (never an API process), and be
downloadable from the S3 server with the advertised digest.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, REDIS_URL
from tests.integration.topology import Shop, Topology, fresh_database, topology

# One topology per module: keep both tests on one xdist worker (`--dist loadgroup`).
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.xdist_group("topology")]

NAMES = ["Emma", "Lou", "Ines"]


@pytest.fixture(scope="module")
def topo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    if not (PG_URL and REDIS_URL):
        pytest.skip(
            "the process topology needs PostgreSQL and Redis (set LUNEO_TEST_DATABASE_URL and LUNEO_TEST_REDIS_URL)"
        )
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    url = fresh_database(PG_URL, f"luneo_test_topology_{worker}")
    workdir: Path = tmp_path_factory.mktemp("topology")
    with topology(workdir, database_url=url, redis_url=REDIS_URL) as t:
        yield t


def test_two_apis_and_two_workers_carry_a_paid_order_to_ready_packs(topo: Topology) -> None:
    shop = Shop(topo)
    api1, api2 = topo.apis
    pid = shop.product_id(api1)
    r = shop.order(api1, pid, NAMES)
    assert r.status_code == 201, r.text
    order = r.json()
    co = shop.checkout(api2, order["id"])
    assert co.status_code == 201, co.text
    paid = shop.pay(api2, co.json()["session_id"])
    assert paid.status_code == 303, paid.text

    shop.wait_ready(api1, order["id"], len(NAMES), timeout_s=90.0)

    got = shop.call(api1, "GET", f"/api/v1/orders/{order['id']}")
    assert got.json()["status"] == "paid"
    work_orders = shop.work_orders(api2, order["id"])
    assert sorted(w["order_item_id"] for w in work_orders) == sorted(i["id"] for i in order["items"])
    stored = set(topo.s3.keys())
    for wo in work_orders:
        content, _ = shop.download_pack(api2, wo["id"])
        names = zipfile.ZipFile(io.BytesIO(content)).namelist()
        assert any(n.endswith(".svg") for n in names) and any(n.endswith(".pdf") for n in names), names
    assert any(k.startswith("luneo/") for k in stored), stored  # written under the configured prefix

    # The API processes ran no job: every export was claimed by a worker process.
    with topo.engine().connect() as conn:
        rows = conn.execute(
            sa.text("select worker_id from jobs where actor = 'export_pack' and status = 'success'")
        ).all()
    assert len(rows) >= len(NAMES)
    api_pids = {f":{api.pid}:" for api in topo.apis}
    assert all(row.worker_id and not any(p in row.worker_id for p in api_pids) for row in rows), rows


def test_pg_dump_restores_every_row(topo: Topology) -> None:
    """The backup procedure of docs/OPERATIONS.md: `pg_dump -Fc` of the live database, restored with
    `pg_restore --no-owner` into a new database, has every row and the row-level-security walls."""
    import subprocess

    from tests.integration.topology import PG_BIN

    assert PG_URL
    restored = fresh_database(PG_URL, f"{sa.engine.make_url(topo.database_url).database}_restore")
    dump = topo.workdir / "luneo.dump"
    subprocess.run(
        [str(PG_BIN / "pg_dump"), "--format=custom", "--no-owner", "--file", str(dump), topo.database_url],
        check=True,
        timeout=120,
    )
    subprocess.run(
        [str(PG_BIN / "pg_restore"), "--no-owner", "--exit-on-error", "--dbname", restored, str(dump)],
        check=True,
        timeout=120,
    )

    def census(url: str) -> tuple[dict[str, int], int]:
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.connect() as conn:
                tables = conn.execute(
                    sa.text("select tablename from pg_tables where schemaname = 'public' order by 1")
                ).scalars()
                counts = {
                    t: conn.execute(sa.text(f'select count(*) from "{t}"')).scalar_one() for t in tables
                }
                policies = conn.execute(sa.text("select count(*) from pg_policies")).scalar_one()
        finally:
            engine.dispose()
        return counts, policies

    try:
        live, restored_counts = census(topo.database_url), census(restored)
        assert live[0]["products"] >= 1 and live[0]["brands"] >= 1 and live[1] > 0, live
        assert restored_counts == live
    finally:
        fresh_database(PG_URL, sa.engine.make_url(restored).database or "", create=False)
