"""Operator commands (issue 12, items 7 and 9): each prints a clear result and exits non-zero on
failure; `luneo serve` seeds the demo only when asked (`make run` asks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.demo import seed_catalog
from tests.integration.factories.manufacturing import PENDANT, run_jobs, snapshot

WO = "/api/v1/manufacturing/work-orders"


def _run(args: list[str], input: str | None = None) -> Any:
    from typer.testing import CliRunner

    from luneo import cli

    return CliRunner().invoke(cli.app, args, input=input)


def _user(email: str) -> Any:
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy.models import User

    with get_db().transaction(write=False) as s:
        bind_system(s)
        user = s.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if user is not None:
            s.expunge(user)
        return user


def test_serve_seeds_the_demo_only_when_asked(settings, monkeypatch):
    seeded: list[Any] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: None)
    monkeypatch.setattr("luneo.seed.seed_demo", lambda *a, **kw: seeded.append(a) or {})
    result = _run(["serve", "--no-migrate"])
    assert result.exit_code == 0, result.output
    assert seeded == []
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    run_recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "--seed" in run_recipe


def test_brands_create_list_suspend(settings):
    r = _run(["brands", "create", "acme-shop", "--name", "Acme Shop"])
    assert r.exit_code == 0, r.output
    assert "acme-shop" in r.output and "brd_" in r.output
    r = _run(["brands", "create", "acme-shop", "--name", "Again"])
    assert r.exit_code != 0 and "taken" in r.output
    r = _run(["brands", "create", "Bad Slug!", "--name", "x"])
    assert r.exit_code != 0 and "slug" in r.output
    r = _run(["brands", "list"])
    assert r.exit_code == 0 and "acme-shop" in r.output and "active" in r.output
    r = _run(["brands", "suspend", "acme-shop", "--reason", "unpaid invoices"])
    assert r.exit_code == 0, r.output
    assert "suspended" in r.output
    r = _run(["brands", "list"])
    assert "suspended" in r.output
    r = _run(["brands", "suspend", "acme-shop", "--reinstate"])
    assert r.exit_code == 0 and "reinstated" in r.output
    r = _run(["brands", "suspend", "no-such-brand"])
    assert r.exit_code != 0 and "no-such-brand" in r.output


def test_users_create_deactivate_and_admin_create(settings, client):
    r = _run(["users", "create", "ops@example.com", "--password", "correct horse battery"])
    assert r.exit_code == 0, r.output
    ok = client.post(
        "/api/v1/auth/login", json={"email": "ops@example.com", "password": "correct horse battery"}
    )
    assert ok.status_code == 200, ok.text
    r = _run(["users", "deactivate", "ops@example.com"])
    assert r.exit_code == 0 and "deactivated" in r.output
    assert _user("ops@example.com").is_active is False
    no = client.post(
        "/api/v1/auth/login", json={"email": "ops@example.com", "password": "correct horse battery"}
    )
    assert no.status_code == 401
    r = _run(["users", "deactivate", "ghost@example.com"])
    assert r.exit_code != 0 and "ghost@example.com" in r.output

    r = _run(["admin", "create", "root@example.com", "--password", "correct horse battery"])
    assert r.exit_code == 0, r.output
    assert "platform admin" in r.output
    assert _user("root@example.com").is_platform_admin is True
    r = _run(["admin", "create", "root@example.com", "--password", "correct horse battery"])
    assert r.exit_code != 0
    r = _run(["admin", "create", "not-an-email", "--password", "correct horse battery"])
    assert r.exit_code != 0


def test_failed_export_work_order_and_job_retry_from_the_cli(client, brand_a, monkeypatch):
    from luneo.manufacturing import tasks

    cat = seed_catalog(brand_a)
    real = tasks.export_spec

    def broken(*a: Any, **kw: Any) -> Any:
        raise ValueError("asset storage unreadable")

    monkeypatch.setattr(tasks, "export_spec", broken)
    sid = snapshot(client, brand_a, cat["DEMO-PENDANT"], PENDANT)
    wid = client.post(WO, json={"snapshot_id": sid}, headers=brand_a.h()).json()["id"]
    assert run_jobs() == ["failed"]

    r = _run(["jobs", "list"])
    assert r.exit_code == 0, r.output
    assert "export_pack" in r.output and "failed" in r.output
    job_id = next(w for w in r.output.split() if w.startswith("job_"))

    r = _run(["jobs", "retry", "job_doesnotexist"])
    assert r.exit_code != 0 and "job_doesnotexist" in r.output
    r = _run(["work-orders", "retry", "wo_doesnotexist"])
    assert r.exit_code != 0 and "wo_doesnotexist" in r.output

    monkeypatch.setattr(tasks, "export_spec", real)
    r = _run(["work-orders", "retry", wid])
    assert r.exit_code == 0, r.output
    assert "exporting" in r.output
    assert run_jobs() == ["success"]
    wo = client.get(f"{WO}/{wid}", headers=brand_a.h()).json()
    assert wo["status"] == "ready"
    r = _run(["work-orders", "retry", wid])  # ready, nothing failed: refused
    assert r.exit_code != 0 and "ready" in r.output

    # A job that succeeded cannot be retried or cancelled.
    r = _run(["jobs", "retry", job_id])
    assert r.exit_code != 0 and "success" in r.output
    r = _run(["jobs", "cancel", job_id])
    assert r.exit_code != 0


def test_jobs_retry_and_cancel(settings):
    from luneo.platform import jobs
    from luneo.platform.database import get_db
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    @jobs.actor("ops_cli_probe", max_retries=0)
    def probe(ctx: Any) -> None:
        return None

    with get_db().transaction() as s:
        bind_system(s)
        pending = jobs.enqueue(s, "ops_cli_probe", "ops-cli-1")
        failed = jobs.enqueue(s, "ops_cli_probe", "ops-cli-2")
        failed.status, failed.error = "failed", "boom"
        pending_id, failed_id = pending.id, failed.id

    r = _run(["jobs", "list", "--status", "failed"])
    assert r.exit_code == 0 and failed_id in r.output and pending_id not in r.output
    r = _run(["jobs", "retry", failed_id])
    assert r.exit_code == 0 and "pending" in r.output
    r = _run(["jobs", "cancel", pending_id])
    assert r.exit_code == 0 and "cancelled" in r.output
    with get_db().transaction(write=False) as s:
        bind_system(s)
        assert s.get(Job, failed_id).status == "pending"
        cancelled = s.get(Job, pending_id)
        assert cancelled.status == "failed" and "cancelled" in (cancelled.error or "")
    r = _run(["jobs", "list", "--status", "bogus"])
    assert r.exit_code != 0


@pytest.mark.parametrize("args", [["jobs", "cancel", "job_nope"], ["brands", "suspend", "nope"]])
def test_unknown_ids_exit_non_zero(settings, args):
    r = _run(args)
    assert r.exit_code != 0 and args[-1] in r.output


def test_brands_create_in_a_fresh_process_runs_the_domains_subscribers(settings):
    """`luneo brands create` in its own process publishes `brand.created` to every domain's
    subscribers (billing grants the signup credits), as the API does."""
    import os
    import subprocess
    import sys

    from luneo.credits.service import get_balance
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system

    env = dict(os.environ)
    code = "from luneo.cli import app; app()"
    done = subprocess.run(
        [sys.executable, "-c", code, "brands", "create", "fresh-shop", "--name", "Fresh Shop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    brand_id = done.stdout.strip().splitlines()[-1]
    with get_db().transaction(write=False) as s:
        bind_system(s)
        assert get_balance(s, brand_id) > 0
