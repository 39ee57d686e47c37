"""Luneo as an operator deploys it, as processes: API processes (`luneo serve`) and workers
(`luneo worker`) on PostgreSQL + Redis + an S3 server (moto), the shape of `deploy/compose.yaml`.

Used by `tests/integration/test_topology.py` (CI: the shared PostgreSQL and Redis) and
`bench/chaos.py` (a private `redis-server` and a private PostgreSQL cluster it may stop).
Every process is killed when the `topology()` context exits, whatever happened inside.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx
import sqlalchemy as sa

PG_BIN = Path(os.environ.get("LUNEO_PG_BIN", "/usr/lib/postgresql/15/bin"))
PENDANT_SKU = "DEMO-PENDANT"
CUSTOMER = {"email": "ada@example.com", "name": "Ada"}

# Settings every process of the topology gets: production shape (no in-process jobs, no
# migration or seeding by `serve`), test-friendly cost (cheap password hashing, no rate limits).
BASE_ENV = {
    "LUNEO_ENV": "test",
    "LUNEO_RUN_WORKER_IN_PROCESS": "false",
    "LUNEO_LOG_LEVEL": "INFO",
    "LUNEO_LOG_JSON": "true",
    "LUNEO_RATE_LIMIT_KEY": "1000000/minute",
    "LUNEO_RATE_LIMIT_IP": "1000000/minute",
    "LUNEO_RATE_LIMIT_LOGIN": "1000000/minute",
    "LUNEO_RATE_LIMIT_UPLOAD_IP": "1000000/minute",
    "LUNEO_ARGON2_MEMORY_KIB": "1024",
    "LUNEO_ARGON2_TIME_COST": "1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "PYTHONUNBUFFERED": "1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(predicate: Callable[[], bool], timeout_s: float, what: str, *, every_s: float = 0.1) -> float:
    """Poll until `predicate()`; returns the seconds it took (AssertionError after `timeout_s`)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout_s:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)
    return time.monotonic() - start


# --------------------------------------------------------------------------- processes


class Proc:
    """A subprocess with its output appended to `<logs>/<name>.log`; restartable."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logs: Path, cwd: Path) -> None:
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.log = logs / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """Die the hard way (no cleanup, no ack): what a crashed machine does."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill9()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def luneo_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "luneo.cli", *args]


class Api(Proc):
    """`luneo serve` on its own port (production flags: no migration, no seeding)."""

    def __init__(self, name: str, env: dict[str, str], logs: Path, cwd: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        argv = luneo_argv(
            "serve", "--host", "127.0.0.1", "--port", str(self.port), "--no-migrate", "--no-seed"
        )
        super().__init__(name, argv, env, logs, cwd)

    def healthy(self) -> bool:
        try:
            return httpx.get(self.base + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout_s: float = 240.0) -> None:
        def up() -> bool:
            assert self.alive(), f"{self.name} exited:\n{self.tail()}"
            return self.healthy()

        _wait(up, timeout_s, f"{self.name} /healthz", every_s=0.2)


class Worker(Proc):
    """`luneo worker --threads N`."""

    def __init__(self, name: str, env: dict[str, str], logs: Path, cwd: Path, threads: int = 2) -> None:
        self.metrics_port = free_port()  # each worker serves its job metrics on its own port
        env = {**env, "LUNEO_WORKER_METRICS_PORT": str(self.metrics_port)}
        super().__init__(name, luneo_argv("worker", "--threads", str(threads)), env, logs, cwd)


# --------------------------------------------------------------------------- backing services


class S3Server:
    """The moto S3 server on a free port with one fresh bucket (moto's state is per process)."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.bucket = f"luneo-topology-{secrets.token_hex(4)}"

    def start(self) -> S3Server:
        import logging

        import boto3

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

        self.server.start()
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        self.client.create_bucket(Bucket=self.bucket)
        return self

    def keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def stop(self) -> None:
        self.server.stop()


class PrivateRedis:
    """A `redis-server` of our own on a free port (never the shared one): it may be killed."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(self.workdir)]
        with open(self.workdir / "redis.log", "ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        _wait(self.up, 20, "private redis-server")
        return self

    def up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill9(self) -> None:
        """Redis dies and loses everything (no persistence): the worst case for the queue."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        self.kill9()


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb into a temp dir, a free port) that may be stopped.
    As root, the cluster runs as the `postgres` user (initdb refuses root)."""

    def __init__(self) -> None:
        self.port = free_port()
        # Its own directory right under the temp root: the `postgres` user must reach it.
        self.workdir = Path(tempfile.mkdtemp(prefix="luneo-pg-"))
        self.data = self.workdir / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed: {done.stderr or done.stdout}")

    def start(self) -> PrivatePostgres:
        if not self.data.exists():
            if os.geteuid() == 0:
                shutil.chown(self.workdir, "postgres", "postgres")
            self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N")
        self._pg_ctl("start")
        return self

    def _pg_ctl(self, action: str) -> None:
        opts = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.workdir / "postgres.log")
        if action == "start":
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", log, "-o", opts, "-w", "start")
        else:  # an immediate stop is a crash: no checkpoint, crash recovery on the next start
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def crash(self) -> None:
        self._pg_ctl("stop")

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._pg_ctl("stop")
        shutil.rmtree(self.workdir, ignore_errors=True)


def fresh_database(admin_url: str, name: str, *, create: bool = True) -> str:
    """Drop and (unless `create=False`) create database `name` on the server of `admin_url`;
    returns its URL."""
    base = sa.engine.make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        if create:
            conn.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False).replace("+psycopg", "", 1)


# --------------------------------------------------------------------------- the topology


@dataclass
class Topology:
    """The running processes and what a client needs to use them."""

    env: dict[str, str]
    workdir: Path
    s3: S3Server
    database_url: str
    apis: list[Api] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    demo: dict[str, Any] = field(default_factory=dict)
    _engine: sa.Engine | None = None

    def luneo(self, *args: str, timeout_s: float = 180.0) -> subprocess.CompletedProcess[str]:
        """Run a `luneo` CLI command with the topology's settings (raises on a non-zero exit)."""
        done = subprocess.run(
            luneo_argv(*args),
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        if done.returncode != 0:
            raise AssertionError(f"luneo {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
        return done

    def engine(self) -> sa.Engine:
        """One engine on the topology's database (as its login: row-level security may not apply)."""
        if self._engine is None:
            url = self.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
            self._engine = sa.create_engine(url, pool_pre_ping=True, pool_size=2)
        return self._engine

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.demo['secret_key']}", **extra}

    def worker_pids(self) -> set[int]:
        return {w.pid for w in self.workers if w.alive()}

    def logs(self, chars: int = 1500) -> str:
        return "\n".join(f"--- {p.name}\n{p.tail(chars)}" for p in [*self.apis, *self.workers])

    def stop(self) -> None:
        for p in [*self.apis, *self.workers]:
            p.kill9()
        if self._engine is not None:
            self._engine.dispose()


@contextlib.contextmanager
def topology(
    workdir: Path,
    *,
    database_url: str,
    redis_url: str,
    apis: int = 2,
    workers: int = 2,
    worker_threads: int = 2,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Topology]:
    """Migrate `database_url` once (`luneo db upgrade`), seed the demo brand (`luneo seed demo`),
    start `apis` API processes and `workers` workers on Redis and a fresh S3 bucket; every
    process is killed on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    s3 = S3Server().start()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("LUNEO_")}
    env = {
        **inherited,
        **BASE_ENV,
        "LUNEO_DATA_DIR": str(workdir / "var"),
        "LUNEO_DATABASE_URL": database_url,
        "LUNEO_REDIS_URL": redis_url,
        "LUNEO_JOB_REDIS_NAMESPACE": "luneotopo_" + secrets.token_hex(4),
        "LUNEO_STORAGE_URL": f"s3://{s3.bucket}/luneo",
        "LUNEO_S3_ENDPOINT_URL": s3.endpoint,
        "LUNEO_S3_REGION": "us-east-1",
        **(extra_env or {}),
    }
    topo = Topology(env=env, workdir=workdir, s3=s3, database_url=database_url)
    try:
        topo.luneo("db", "upgrade")
        seeding = subprocess.Popen(  # alongside the processes' start: both take seconds of imports
            luneo_argv("seed", "demo", "--json"), env=env, cwd=workdir, stdout=subprocess.PIPE, text=True
        )
        try:
            topo.apis = [Api(f"api{i + 1}", env, logs, workdir).start() for i in range(apis)]
            topo.workers = [
                Worker(f"worker{i + 1}", env, logs, workdir, worker_threads).start() for i in range(workers)
            ]
            out, _ = seeding.communicate(timeout=300)
        finally:
            if seeding.poll() is None:
                seeding.kill()
        assert seeding.returncode == 0, "luneo seed demo failed"
        topo.demo = json.loads(out.strip().splitlines()[-1])
        for api in topo.apis:
            api.wait_healthy()
        yield topo
    finally:
        topo.stop()
        s3.stop()
        _drop_namespace(redis_url, env["LUNEO_JOB_REDIS_NAMESPACE"])


def _drop_namespace(redis_url: str, namespace: str) -> None:
    """Remove the topology's job-queue keys from a shared Redis (nothing if it is down)."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    with contextlib.suppress(redis.RedisError):
        for key in client.scan_iter(f"{namespace}:*"):
            client.delete(key)
    client.close()


# --------------------------------------------------------------------------- a shopper's order


class Shop:
    """The client side of an order: snapshots, order, checkout and payment, pack downloads."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo

    def call(self, api: Api, method: str, path: str, **kw: Any) -> httpx.Response:
        kw.setdefault("headers", self.topo.headers())
        return httpx.request(method, api.base + path, timeout=kw.pop("timeout", 60), **kw)

    def product_id(self, api: Api, sku: str = PENDANT_SKU) -> str:
        r = self.call(api, "GET", "/api/v1/products", params={"limit": 100})
        assert r.status_code == 200, r.text
        return next(p["id"] for p in r.json()["data"] if p["sku"] == sku)

    def snapshot(self, api: Api, product_id: str, name: str) -> str:
        inputs = {"arc_text": {"text": name}, "initial": {"text": name[0]}}
        r = self.call(api, "POST", "/api/v1/snapshots", json={"product_id": product_id, "inputs": inputs})
        assert r.status_code in (200, 201), r.text
        return str(r.json()["id"])

    def order_body(
        self, api: Api, product_id: str, names: list[str], email: str | None = None
    ) -> dict[str, Any]:
        """An order of one pendant per name (snapshots made now), for the customer `email`."""
        items = [
            {"product_id": product_id, "quantity": 1, "snapshot_id": self.snapshot(api, product_id, n)}
            for n in names
        ]
        return {"items": items, "customer": {**CUSTOMER, **({"email": email} if email else {})}}

    def order(self, api: Api, product_id: str, names: list[str], **kw: Any) -> httpx.Response:
        return self.call(api, "POST", "/api/v1/orders", json=self.order_body(api, product_id, names), **kw)

    def checkout(self, api: Api, order_id: str, **kw: Any) -> httpx.Response:
        body = {"success_url": "https://shop.example/thanks", "cancel_url": "https://shop.example/cart"}
        return self.call(api, "POST", f"/api/v1/orders/{order_id}/checkout", json=body, **kw)

    def pay(self, api: Api, session_id: str) -> httpx.Response:
        """The dev provider's hosted Pay button: a signed event through the webhook path."""
        return httpx.post(f"{api.base}/checkout/dev/{session_id}/pay", timeout=60, follow_redirects=False)

    def work_orders(self, api: Api, order_id: str) -> list[dict[str, Any]]:
        r = self.call(api, "GET", "/api/v1/manufacturing/work-orders", params={"order_id": order_id})
        assert r.status_code == 200, r.text
        return list(r.json()["data"])

    def wait_ready(self, api: Api, order_id: str, items: int, timeout_s: float) -> float:
        """Seconds until every item's work order is `ready` (AssertionError with the logs if not)."""
        statuses: list[str] = []

        def ready() -> bool:
            nonlocal statuses
            with contextlib.suppress(httpx.HTTPError, AssertionError):
                statuses = [w["status"] for w in self.work_orders(api, order_id)]
            return len(statuses) == items and set(statuses) == {"ready"}

        try:
            return _wait(ready, timeout_s, "ready packs", every_s=0.25)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {statuses}\n{self.topo.logs()}") from None

    def download_pack(self, api: Api, work_order_id: str) -> tuple[bytes, dict[str, Any]]:
        """The pack through its signed URL (straight from the S3 server); checks its digest."""
        r = self.call(api, "GET", f"/api/v1/manufacturing/work-orders/{work_order_id}/pack")
        assert r.status_code == 200, r.text
        meta = r.json()
        got = httpx.get(meta["url"], timeout=60)
        assert got.status_code == 200, (meta["url"], got.status_code)
        assert hashlib.sha256(got.content).hexdigest() == meta["sha256"] and len(got.content) == meta["bytes"]
        return got.content, meta
