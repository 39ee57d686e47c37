"""`luneo` command line: serve, worker, db, seed, users, admin, keys, check-env."""

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
app.add_typer(db_app, name="db")
app.add_typer(seed_app, name="seed")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(admin_app, name="admin")


def _mount_domain_commands() -> None:
    """Domain CLIs: `luneo credits …`, `luneo render`, `luneo export`, `luneo bulk`."""
    from luneo.credits.cli import credits_app
    from luneo.manufacturing.cli import bulk_command, export_command
    from luneo.rendering.cli import render

    app.add_typer(credits_app, name="credits")
    app.command("render")(render)
    app.command("export")(export_command)
    app.command("bulk")(bulk_command)


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
    seed: bool | None = typer.Option(
        None, "--seed/--no-seed", help="Seed the demo brand. Default: on; refused in production."
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
    # Production never migrates or seeds on its own (run `luneo db upgrade` on deploy).
    migrate = not settings.is_production if migrate is None else migrate
    seed = not settings.is_production if seed is None else seed
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
    uvicorn.run(
        "luneo.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # X-Forwarded-For is believed only from LUNEO_TRUSTED_PROXIES
    )


@app.command()
def worker(threads: int = typer.Option(None, help="Worker threads (default from settings).")) -> None:
    """Run background job workers (Dramatiq on Redis, or in-process threads)."""
    from luneo.worker import run_worker

    _refuse_unsafe_production()

    run_worker(threads=threads)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads")) -> None:
    """Apply migrations up to REVISION (default head)."""
    from luneo.platform import migrate as m

    m.upgrade(revision)
    console.print(f"database at {m.current() or 'base'}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument("-1")) -> None:
    """Revert migrations down to REVISION (default one step)."""
    from luneo.platform import migrate as m

    m.downgrade(revision)
    console.print(f"database at {m.current() or 'base'}")


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

    from luneo.platform.errors import Problem
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
        except Problem as exc:
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

    from luneo.platform.errors import NotFound
    from luneo.platform.tenancy import bind_system
    from luneo.tenancy import service

    try:
        with get_db().transaction() as s:
            bind_system(s)
            user = service.set_platform_admin(s, email, value)
            user_id = user.id
    except NotFound:
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
