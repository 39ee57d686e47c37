"""Bulk runs build their packs several at a time on the pack pool (`export_specs`, issue 16 item
10), with the same bytes as one `export_spec` after the other."""

from __future__ import annotations

import json
from typing import Any

import pytest


def test_bulk_builds_packs_in_batches_with_the_bytes_of_one_by_one(
    client: Any, brand_a: Any, cat_a: dict, db: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from luneo.designs.public import BrandResources, get_snapshot
    from luneo.manufacturing import bulk
    from luneo.manufacturing.export import PackOptions, export_spec
    from luneo.platform.tenancy import bind_tenant

    monkeypatch.setenv("LUNEO_PACK_WORKERS", "2")  # batches of 4 on two worker processes
    batches: list[int] = []
    real = bulk.export_specs

    def recording(jobs: Any, resources: Any, **kw: Any) -> Any:
        batches.append(len(jobs))
        return real(jobs, resources, **kw)

    monkeypatch.setattr(bulk, "export_specs", recording)
    packed: list[tuple[int, int]] = []
    csv_text = "arc_text,initial\nEmma,E\nZoé,Z\nJean,J\nMarie,M\nAda,A\n"
    result = bulk.run_bulk(
        db,
        brand_a.id,
        "DEMO-PENDANT",
        csv_text,
        tmp_path,
        kerf_mm=0.1,
        on_packed=lambda i, n: packed.append((i, n)),
    )
    assert batches == [4, 1]
    assert packed == [(i, 5) for i in range(1, 6)]
    assert [p["line"] for p in result.packs] == [2, 3, 4, 5, 6]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["packs"] == result.packs
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        for p in result.packs:
            snap = get_snapshot(s, p["snapshot_id"])
            meta = {
                "snapshot_id": snap.id,
                "brand_id": brand_a.id,
                "bulk": {"csv": "bulk.csv", "line": p["line"]},
            }
            one = export_spec(
                dict(snap.spec), snap.spec_hash, BrandResources(s), PackOptions(kerf_mm=0.1), meta
            )
            assert (tmp_path / p["file"]).read_bytes() == one.data, p["line"]
            assert p["sha256"] == one.sha256 and p["spec_hash"] == snap.spec_hash


def test_dashboard_bulk_job_builds_packs_in_batches_with_the_bytes_of_one_by_one(
    client: Any, brand_a: Any, cat_a: dict, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import zipfile

    from luneo.designs.public import BrandResources, get_snapshot
    from luneo.manufacturing import tasks
    from luneo.manufacturing.export import PackOptions, export_spec
    from luneo.platform.jobs import JobContext
    from luneo.platform.storage import get_storage
    from luneo.platform.tenancy import bind_tenant

    monkeypatch.setenv("LUNEO_PACK_WORKERS", "2")
    batches: list[int] = []
    real = tasks.export_specs

    def recording(jobs: Any, resources: Any, **kw: Any) -> Any:
        batches.append(len(jobs))
        return real(jobs, resources, **kw)

    monkeypatch.setattr(tasks, "export_specs", recording)
    progress: list[float] = []

    class Ctx(JobContext):
        def progress(self, fraction: float) -> None:
            progress.append(fraction)

    names = ["Emma", "Zoé", "Jean", "Marie", "Ada"]
    rows = [
        {"line": i + 2, "inputs": {"arc_text": {"text": n}, "initial": {"text": n[0]}}, "label": n}
        for i, n in enumerate(names)
    ]
    payload = {"rows": rows, "product_id": cat_a["DEMO-PENDANT"], "csv_name": "n.csv"}
    ctx = Ctx("job_test", "k", "bulk_personalization", payload, brand_a.id, 1, 2, None, db, "w1")
    out = tasks.bulk_personalization(ctx)
    assert batches == [4, 1]
    assert progress == [i / 6 for i in range(1, 6)]
    assert [p["line"] for p in out["packs"]] == [2, 3, 4, 5, 6]
    with zipfile.ZipFile(io.BytesIO(get_storage().get(out["key"]))) as zf:
        items = {n: zf.read(n) for n in zf.namelist() if n.startswith("items/")}
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_a.id)
        for p in out["packs"]:
            snap = get_snapshot(s, p["snapshot_id"])
            meta = {"snapshot_id": snap.id, "brand_id": brand_a.id, "bulk": {"line": p["line"]}}
            one = export_spec(dict(snap.spec), snap.spec_hash, BrandResources(s), PackOptions(), meta)
            assert items[f"items/{p['name']}.zip"] == one.data, p["line"]
