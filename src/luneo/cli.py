"""`luneo` command line: serve, worker, db, seed, brands, users, admin, keys, jobs, work-orders,
check-env. Operator commands print one clear result and exit non-zero on failure (2: unknown id
or bad input, 1: refused in the current state or declined)."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from luneo.platform.config import get_settings
from luneo.platform.database import get_db

app = typer.Typer(
    help="Luneo: product personalization platform.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
seed_app = typer.Typer(help="Demo data.", no_args_is_help=True)
users_app = typer.Typer(help="Operator accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
admin_app = typer.Typer(help="Platform administrators (can list and suspend brands).", no_args_is_help=True)
brands_app = typer.Typer(help="Brands (tenants).", no_args_is_help=True)
jobs_app = typer.Typer(help="Background jobs: failed and stuck ones.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(seed_app, name="seed")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(admin_app, name="admin")
app.add_typer(brands_app, name="brands")
app.add_typer(jobs_app, name="jobs")


@app.callback()
def _load_domains() -> None:
    """Every command runs with every domain's models, event subscribers and job actors loaded, so a
    brand created here (for instance) reaches the same subscribers as one created through the API."""
    from luneo.domains import load_domain_modules

    load_domain_modules()


def _mount_domain_commands() -> None:
    """Domain CLIs: `luneo credits …`, `luneo render`, `luneo export`, `luneo bulk`."""
    from luneo.credits.cli import credits_app
    from luneo.manufacturing.cli import bulk_command, export_command, work_orders_app
    from luneo.rendering.cli import render

    app.add_typer(credits_app, name="credits")
    app.command("render")(render)
    app.command("export")(export_command)
    app.command("bulk")(bulk_command)
    app.add_typer(work_orders_app, name="work-orders")


_mount_domain_commands()
console = Console(stderr=True)


def _refuse_unsafe_production(*, seeding_demo: bool = False) -> None:
    """Exit with the settings to fix when `LUNEO_ENV=production` and one is unsafe."""
    from luneo.platform.config import InsecureConfiguration, check_production_settings

    try:
        check_production_settings(get_settings(), seeding_demo=seeding_demo)
    except InsecureConfiguration as exc:
        console.print(str(exc), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    migrate: bool | None = typer.Option(
        None, "--migrate/--no-migrate", help="Default: on; off in production."
    ),
    seed: bool = typer.Option(
        False, "--seed/--no-seed", help="Seed the demo brand (`make run` does). Refused in production."
    ),
    workers: int = 1,
) -> None:
    """Run the API (and, without Redis, the in-process job workers)."""
    import os

    import uvicorn

    if "LUNEO_PUBLIC_BASE_URL" not in os.environ:  # links and the demo's origin follow the bound port
        os.environ["LUNEO_PUBLIC_BASE_URL"] = f"http://{host}:{port}"
        get_settings.cache_clear()
    settings = get_settings()
    # Production never migrates or seeds on its own (run `luneo db upgrade` once on deploy);
    # only `make run` (`--seed`) seeds the demo brand.
    migrate = not settings.is_production if migrate is None else migrate
    _refuse_unsafe_production(seeding_demo=seed)
    if migrate:
        from luneo.platform import migrate as m

        m.upgrade()
    if seed:
        from luneo.seed import seed_demo

        creds = seed_demo(get_db(), settings)
        base = f"http://{host}:{port}"
        console.print(f"[bold]Luneo[/bold] on {base}  (API docs: {base}/docs)")
        console.print(
            f"  demo brand: {creds['brand']['slug']}  login: {creds['owner']['email']} / "
            f"{creds['owner']['password']}"
        )
        console.print(f"  publishable key: {creds['publishable_key']}")
        console.print(f"  secret key:      {creds['secret_key']}")
    from luneo.platform.logging import configure_process_logging

    configure_process_logging(settings)  # the supervisor's lines too (each process re-applies it)
    metrics_dir = None
    if workers > 1:  # one /metrics for all processes: prometheus-client multiprocess mode
        from luneo.platform.metrics import use_multiprocess_dir

        metrics_dir = use_multiprocess_dir(settings.data_dir)
    try:
        uvicorn.run(
            "luneo.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            log_config=None,  # uvicorn's own lines go through our (JSON) logging configuration
            access_log=False,
            proxy_headers=False,  # X-Forwarded-For is believed only from LUNEO_TRUSTED_PROXIES
        )
    finally:
        if metrics_dir is not None:
            import shutil

            shutil.rmtree(metrics_dir, ignore_errors=True)


@app.command()
def worker(
    threads: int = typer.Option(None, help="Worker threads per process (default from settings)."),
    processes: int = typer.Option(1, min=1, help="Worker processes (supervised by this one)."),
) -> None:
    """Run background job workers (Dramatiq on RabbitMQ or Redis, or the embedded runtime)."""
    from luneo.platform.error_reporting import init_sentry
    from luneo.platform.logging import configure_process_logging
    from luneo.worker import run_worker

    configure_process_logging(get_settings())  # JSON lines like the API (LUNEO_LOG_*)
    init_sentry(get_settings())  # when LUNEO_SENTRY_DSN is set
    _refuse_unsafe_production()

    run_worker(threads=threads, processes=processes)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Apply migrations up to REVISION (default head)."""
    from luneo.platform import migrate as m

    m.upgrade(revision)
    console.print(f"database at {m.current() or 'base'}")


@db_app.command("downgrade")
def db_downgrade(
    target: str = typer.Argument(
        ...,
        help="base, a revision id (kept; what is built on it is undone) or REV@-1 (undo REV too).",
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Undo migrations down to TARGET: shows the revisions it will undo and asks first."""
    from luneo.platform import migrate as m

    try:
        plan = m.downgrade_plan(target)
    except m.MigrationTargetError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if not plan:
        console.print(f"nothing to undo: no applied revision is above {target}")
        return
    console.print(f"This undoes {len(plan)} revision(s), dropping their tables and columns:")
    for rev, title in plan:
        console.print(f"  {rev}  {title}", markup=False, highlight=False)
    if not yes and not typer.confirm("Continue?", default=False, err=True):
        console.print("aborted: nothing changed")
        raise typer.Exit(1)
    undone = m.downgrade(target)
    console.print(
        f"undid {', '.join(undone) or 'nothing'}; database at {m.current() or 'base'}", markup=False
    )


@db_app.command("current")
def db_current() -> None:
    """Print the current revision."""
    from luneo.platform import migrate as m

    typer.echo(m.current() or "base")


@seed_app.command("demo")
def seed_demo_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object for scripts."),
) -> None:
    """Create the demo brand, owner, keys and catalog (idempotent; refused in production)."""
    from luneo.platform import migrate as m
    from luneo.seed import seed_demo

    _refuse_unsafe_production(seeding_demo=True)

    m.upgrade()
    creds = seed_demo(get_db(), get_settings())
    if as_json:
        sys.stdout.write(json.dumps(creds) + "\n")
        return
    console.print(f"brand {creds['brand']['slug']} ({creds['brand']['id']})")
    console.print(f"owner {creds['owner']['email']} / {creds['owner']['password']}")
    console.print(f"publishable key {creds['publishable_key']}")
    console.print(f"secret key {creds['secret_key']}")


@users_app.command("create")
def users_create(
    email: str,
    password: str = typer.Option(..., prompt=True, hide_input=True),
    brand: str = typer.Option(None, help="Brand slug to join."),
    role: str = "owner",
    name: str = "",
) -> None:
    """Create an operator account, optionally with a role in a brand."""
    from sqlalchemy import select

    from luneo.platform.domain_errors import DomainError
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service
    from luneo.tenancy.models import Brand

    if role not in ("owner", "admin", "editor", "production", "viewer"):
        console.print(f"[red]unknown role {role}[/red] (owner, admin, editor, production, viewer)")
        raise typer.Exit(2)
    with get_db().transaction() as s:
        bind_system(s)
        try:
            user = service.create_user(s, email=email, password=password, name=name)
        except DomainError as exc:
            console.print(f"[red]{exc.detail or exc.code}[/red]", markup=False)
            raise typer.Exit(2) from None
        if brand:
            b = s.execute(select(Brand).where(Brand.slug == brand)).scalar_one_or_none()
            if b is None:
                console.print(f"[red]no brand {brand}[/red]")
                raise typer.Exit(2)
            bind_tenant(s, b.id)
            service.add_member(s, brand_id=b.id, user_id=user.id, role=role)
        typer.echo(user.id)


def _set_platform_admin(email: str, value: bool) -> None:
    import structlog

    from luneo.platform.domain_errors import NotFoundError
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy import service

    try:
        with get_db().transaction() as s:
            bind_system(s)
            user = service.set_platform_admin(s, email, value)
            user_id = user.id
    except NotFoundError:
        console.print(f"[red]no user {email}[/red]")
        raise typer.Exit(2) from None
    structlog.get_logger("luneo.audit").warning(
        "platform_admin.granted" if value else "platform_admin.revoked", user_id=user_id
    )
    console.print(f"{email} ({user_id}) {'is now' if value else 'is no longer'} a platform admin")


@admin_app.command("grant")
def admin_grant(email: str) -> None:
    """Make an existing user a platform admin (/api/v1/admin: list, suspend, reinstate brands)."""
    _set_platform_admin(email, True)


@admin_app.command("revoke")
def admin_revoke(email: str) -> None:
    """Take the platform-admin role away from a user (effective on their next request)."""
    _set_platform_admin(email, False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(message, style="red", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


@admin_app.command("create")
def admin_create(
    email: str,
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    name: str = "",
) -> None:
    """Create a new user who is a platform admin."""
    import structlog

    from luneo.platform.domain_errors import DomainError
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy import service

    try:
        with get_db().transaction() as s:
            bind_system(s)
            user = service.create_user(s, email=email, password=password, name=name)
            service.set_platform_admin(s, user.email, True)
            user_id, user_email = user.id, user.email
    except DomainError as exc:
        raise _fail(f"{exc.detail or exc.code}") from None
    structlog.get_logger("luneo.audit").warning("platform_admin.created", user_id=user_id)
    console.print(f"{user_email} ({user_id}) created; is a platform admin", markup=False)


@users_app.command("deactivate")
def users_deactivate(email: str) -> None:
    """Deactivate an account: no more sign-ins, refresh tokens revoked."""
    from luneo.platform.domain_errors import NotFoundError
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy import service

    try:
        with get_db().transaction() as s:
            bind_system(s)
            user_id = service.deactivate_user(s, email).id
    except NotFoundError:
        raise _fail(f"no user {email}") from None
    console.print(f"{email} ({user_id}) deactivated", markup=False)


def _brand_by_slug(s: object, slug: str) -> object:
    from sqlalchemy import select

    from luneo.tenancy.models import Brand

    brand = s.execute(select(Brand).where(Brand.slug == slug)).scalar_one_or_none()  # type: ignore[attr-defined]
    if brand is None:
        raise _fail(f"no brand {slug}")
    return brand


@brands_app.command("create")
def brands_create(
    slug: str,
    name: str = typer.Option(..., help="Display name."),
    origin: list[str] = typer.Option([], help="Allowed storefront origin (repeatable)."),
    owner: str = typer.Option(None, help="Email of an existing user to make owner."),
) -> None:
    """Create a brand (and optionally give an existing user the owner role)."""
    from sqlalchemy import select

    from luneo.platform.domain_errors import DomainError
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service
    from luneo.tenancy.models import User

    try:
        with get_db().transaction() as s:
            bind_system(s)
            brand = service.create_brand(s, slug=slug, name=name, allowed_origins=origin)
            if owner:
                user = s.execute(select(User).where(User.email == owner.strip().lower())).scalar_one_or_none()
                if user is None:
                    raise _fail(f"no user {owner}")
                bind_tenant(s, brand.id)
                service.add_member(s, brand_id=brand.id, user_id=user.id, role="owner")
            brand_id = brand.id
    except DomainError as exc:
        raise _fail(f"{exc.detail or exc.code}") from None
    console.print(f"brand {slug} created", markup=False)
    typer.echo(brand_id)


@brands_app.command("list")
def brands_list() -> None:
    """Every brand: id, slug, name, plan, status."""
    from sqlalchemy import select

    from luneo.platform.tenancy import bind_system
    from luneo.tenancy.models import Brand

    with get_db().transaction(write=False) as s:
        bind_system(s)
        brands = s.execute(select(Brand).order_by(Brand.created_at, Brand.id)).scalars().all()
        for b in brands:
            status = f"suspended ({b.suspended_reason or 'no reason'})" if b.suspended_at else "active"
            typer.echo(f"{b.id}  {b.slug}  {b.name!r}  plan={b.plan}  {status}")
    console.print(f"{len(brands)} brand(s)")


@brands_app.command("suspend")
def brands_suspend(
    slug: str,
    reason: str = typer.Option("", help="Shown to platform admins and in the audit log."),
    reinstate: bool = typer.Option(False, "--reinstate", help="Lift the suspension instead."),
) -> None:
    """Suspend a brand (its keys and sessions answer 403 brand_suspended), or --reinstate it."""
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        brand = _brand_by_slug(s, slug)
        service.set_suspended(s, brand.id, suspended=not reinstate, actor="cli", reason=reason)  # type: ignore[attr-defined]
    console.print(f"brand {slug} {'reinstated' if reinstate else 'suspended'}", markup=False)


_JOB_FILTERS = ("failed", "stuck", "pending", "processing", "all")


def _stuck_clause(now: object) -> object:
    """`processing` past its deadline or lease (no live run renews it), or `pending` and due for
    longer than the sweeper's grace."""
    from datetime import timedelta

    import sqlalchemy as sa

    from luneo.platform.jobs import get_job_settings
    from luneo.platform.models import Job

    cfg = get_job_settings()
    due = now - timedelta(seconds=cfg.pending_grace_s)  # type: ignore[operator]
    return sa.or_(
        sa.and_(Job.status == "processing", sa.or_(Job.deadline_at < now, Job.lease_expires_at < now)),
        sa.and_(Job.status == "pending", Job.next_run_at <= due, Job.updated_at <= due),
    )


@jobs_app.command("list")
def jobs_list(
    status: str = typer.Option("failed,stuck", help=f"Comma-separated: {', '.join(_JOB_FILTERS)}."),
    limit: int = 50,
) -> None:
    """Failed and stuck jobs (newest first); one line each."""
    import sqlalchemy as sa
    from sqlalchemy import select

    from luneo.platform.clock import utcnow
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    wanted = {w.strip() for w in status.split(",") if w.strip()}
    if not wanted or wanted - set(_JOB_FILTERS):
        raise _fail(f"unknown status filter {status!r} (use {', '.join(_JOB_FILTERS)})")
    now = utcnow()
    clauses = [Job.status == w for w in wanted & {"failed", "pending", "processing"}]
    if "stuck" in wanted:
        clauses.append(_stuck_clause(now))  # type: ignore[arg-type]
    stmt = select(Job).order_by(Job.updated_at.desc()).limit(limit)
    if "all" not in wanted:
        stmt = stmt.where(sa.or_(*clauses))
    with get_db().transaction(write=False) as s:
        bind_system(s)
        rows = s.execute(stmt).scalars().all()
        stuck_ids = (
            {
                j.id
                for j in s.execute(select(Job.id).where(_stuck_clause(now)))  # type: ignore[arg-type]
            }
            if rows
            else set()
        )
        for j in rows:
            label = f"{j.status} (stuck)" if j.id in stuck_ids else j.status
            error = (j.error or "").splitlines()[0][:120] if j.error else ""
            typer.echo(
                f"{j.id}  {label}  {j.actor}  attempts={j.attempts}/{j.max_attempts}  "
                f"brand={j.brand_id or '-'}  updated={j.updated_at:%Y-%m-%d %H:%M:%S}  {error}".rstrip()
            )
    console.print(f"{len(rows)} job(s)")


def _job_or_exit(s: object, job_id: str) -> object:
    from luneo.platform.models import Job

    job = s.get(Job, job_id)  # type: ignore[attr-defined]
    if job is None:
        raise _fail(f"no job {job_id}")
    return job


@jobs_app.command("retry")
def jobs_retry(job_id: str) -> None:
    """Run a failed (or stuck `processing`) job again with fresh attempts."""
    import sqlalchemy as sa

    from luneo.app import load_domain_modules
    from luneo.platform import jobs
    from luneo.platform.clock import utcnow
    from luneo.platform.models import Job
    from luneo.platform.tenancy import bind_system

    load_domain_modules()
    with get_db().transaction() as s:
        bind_system(s)
        job: Job = _job_or_exit(s, job_id)  # type: ignore[assignment]
        stuck = s.execute(sa.select(Job.id).where(Job.id == job_id, _stuck_clause(utcnow()))).first()  # type: ignore[arg-type]
        if job.status != "failed" and not (stuck and job.status == "processing"):
            raise _fail(f"job {job_id} is {job.status}: only failed or stuck jobs are retried", 1)
        try:
            jobs.get_actor(job.actor)
        except LookupError:
            raise _fail(f"job {job_id}: actor {job.actor} is not registered in this version") from None
        if job.status == "processing":  # stuck: its claim is void from now on (fenced)
            job.status, job.error, job.finished_at = "failed", "requeued by operator", utcnow()
            s.flush()
        job = jobs.enqueue(s, job.actor, job.key, job.payload, brand_id=job.brand_id, retry_failed=True)
        status = job.status
    console.print(f"job {job_id} {status}: queued again", markup=False)


@jobs_app.command("cancel")
def jobs_cancel(job_id: str) -> None:
    """Stop a pending or processing job from running (marked failed: 'cancelled by operator');
    its actor's failure hook runs as after a final failure (an export fails its work order)."""
    from luneo.app import load_domain_modules
    from luneo.platform import jobs

    load_domain_modules()  # registers the actors and their failure hooks
    try:
        jobs.cancel(get_db(), job_id)
    except jobs.JobNotCancellable as exc:
        raise _fail(str(exc), 2 if str(exc).startswith("no job") else 1) from None
    console.print(f"job {job_id} cancelled", markup=False)


@keys_app.command("create")
def keys_create(
    brand: str,
    kind: str = typer.Option("secret", help="publishable | secret"),
    name: str = "",
    origin: list[str] = typer.Option([], help="Allowed origin (publishable keys)."),
) -> None:
    """Create an API key for a brand and print it (shown once)."""
    from sqlalchemy import select

    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.tenancy import service
    from luneo.tenancy.models import Brand

    with get_db().transaction() as s:
        bind_system(s)
        b = s.execute(select(Brand).where(Brand.slug == brand)).scalar_one_or_none()
        if b is None:
            console.print(f"[red]no brand {brand}[/red]")
            raise typer.Exit(2)
        bind_tenant(s, b.id)
        key, raw = service.create_api_key(s, brand_id=b.id, kind=kind, name=name, allowed_origins=origin)
        console.print(f"key id {key.id}")
        typer.echo(raw)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke an API key by id."""
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy import service

    with get_db().transaction() as s:
        bind_system(s)
        service.revoke_api_key(s, key_id)
    console.print(f"revoked {key_id}")


@app.command("check-env")
def check_env() -> None:
    """Which optional providers are configured (never prints a secret)."""
    settings = get_settings()
    table = Table("provider", "configured")
    for name, ok in settings.provider_status().items():
        table.add_row(name, "yes" if ok else "no (embedded default)")
    Console().print(table)
    Console().print(f"database: {settings.resolved_database_url.split('@')[-1]}")
    from luneo.platform.config import production_problems

    Console().print(f"environment: {settings.env} (LUNEO_ENV)")
    for problem in production_problems(settings):
        Console().print(f"  refused in production: {problem}", markup=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
