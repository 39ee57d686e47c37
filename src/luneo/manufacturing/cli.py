"""`luneo export` and `luneo bulk`: production packs from the command line (rich progress bars).

Mount with `app.command("export")(export_command)` and `app.command("bulk")(bulk_command)`, or
`app.add_typer(manufacturing.cli.app)`-style via `register(app)`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from luneo.platform.database import get_db
from luneo.platform.domain_errors import DomainError
from luneo.platform.tenancy import bind_system, bind_tenant

console = Console(stderr=True)
app = typer.Typer(help="Production packs.", no_args_is_help=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def export_command(
    order: str = typer.Option(..., "--order", help="Order id whose work orders to export."),
    out: Path = typer.Option(..., "--out", help="Directory for the packs and the bundle.", file_okay=False),
    brand: str | None = typer.Option(
        None, "--brand", help="Brand slug (only needed if the id is ambiguous)."
    ),
) -> None:
    """Write every item's production pack and the order bundle (ORDER-bundle.zip) to OUT.

    Items without a built pack are exported now. Exit code 1 if an item is blocked by print
    checks or failed: its pack (if any) is still written, the bundle is not.
    """
    from luneo.domains import load_domain_modules
    from luneo.manufacturing import service, tasks
    from luneo.manufacturing.models import WorkOrder
    from luneo.platform.storage import get_storage
    from luneo.tenancy.public import Brand

    load_domain_modules()
    db = get_db()
    with db.transaction(write=False) as s:
        bind_system(s)
        stmt = select(WorkOrder.brand_id, WorkOrder.id).where(
            WorkOrder.order_id == order, WorkOrder.status != "cancelled"
        )
        if brand:
            stmt = stmt.join(Brand, Brand.id == WorkOrder.brand_id).where(Brand.slug == brand)
        found = list(s.execute(stmt.order_by(WorkOrder.order_item_id)).all())
    brands = {b for b, _ in found}
    if not found:
        console.print(f"[red]no work orders for order {order}[/red]")
        raise typer.Exit(2)
    if len(brands) > 1:
        console.print(f"[red]order {order} exists in several brands; pass --brand[/red]")
        raise typer.Exit(2)
    brand_id = brands.pop()
    out.mkdir(parents=True, exist_ok=True)
    storage = get_storage()
    items = []
    blocked: list[tuple[str, str]] = []
    with _progress() as progress:
        task = progress.add_task(f"order {order}", total=len(found))
        for _, wo_id in found:
            with db.transaction() as s:
                bind_tenant(s, brand_id)
                wo = service.get_work_order(s, wo_id)
                if not wo.pack_key and wo.status in service.EXPORTABLE | {"exporting"}:
                    service.start_export(s, wo, "cli:export")
                pack_id = wo.pack_id if not wo.pack_key else None
            if pack_id:
                try:
                    tasks.run_pack(db, brand_id, pack_id)
                except Exception as exc:  # reported per item, the others go on
                    console.print(f"[red]{wo_id}: export failed: {exc}[/red]")
            with db.transaction(write=False) as s:
                bind_tenant(s, brand_id)
                wo = service.get_work_order(s, wo_id)
                s.expunge(wo)
            if wo.pack_key:
                data = storage.get(wo.pack_key)
                (out / f"{wo.order_item_id}.zip").write_bytes(data)
                items.append((wo, data))
            if wo.status not in service.BUNDLE_READY:
                blocked.append((wo.id, wo.status))
            progress.advance(task)
    if blocked:
        table = Table("work order", "status")
        for wo_id, status in blocked:
            table.add_row(wo_id, status)
        console.print(table)
        console.print("[red]bundle not written: some items are not ready (override checks or retry)[/red]")
        raise typer.Exit(1)
    with db.transaction(write=False) as s:
        bind_tenant(s, brand_id)
        bundle = service.order_bundle_data(s, order, items)
    target = out / f"{order}-bundle.zip"
    target.write_bytes(bundle)
    console.print(f"wrote {len(items)} pack(s) and {target} ({len(bundle)} bytes)")


def bulk_command(
    product: str = typer.Option(..., "--product", help="Product SKU."),
    csv_path: Path = typer.Option(
        ..., "--csv", exists=True, dir_okay=False, help="CSV: header row = zone keys."
    ),
    out: Path = typer.Option(..., "--out", file_okay=False, help="Directory for the packs and summary.json."),
    brand: str = typer.Option("demo", "--brand", help="Brand slug."),
    kerf_mm: float = typer.Option(0.0, "--kerf-mm", min=0.0, max=5.0, help="Laser kerf for DXF cut paths."),
) -> None:
    """Personalize PRODUCT once per CSV row and write one production pack per row.

    Every row is validated first; bad rows are listed by line number (zone, code, message) and
    produce nothing. The good rows are still produced, but the exit code is 1 when any row was bad.
    """
    from luneo.domains import load_domain_modules
    from luneo.manufacturing.bulk import brand_id_for, run_bulk

    load_domain_modules()
    db = get_db()
    try:
        brand_id = brand_id_for(db, brand)
        text = csv_path.read_text("utf-8-sig")
        with _progress() as progress:
            validate = progress.add_task("validating rows", total=None)
            packing = progress.add_task("writing packs", total=None)
            result = run_bulk(
                db,
                brand_id,
                product,
                text,
                out,
                csv_name=csv_path.name,
                kerf_mm=kerf_mm,
                on_validated=lambda i, n: progress.update(validate, completed=i, total=n),
                on_packed=lambda i, n: progress.update(packing, completed=i, total=n),
            )
            progress.update(packing, total=len(result.packs), completed=len(result.packs))
    except DomainError as exc:
        console.print(f"[red]{exc.detail or exc.code}[/red]")
        raise typer.Exit(2) from None
    if result.errors:
        table = Table("line", "zone", "code", "message", title="rejected rows (nothing produced for them)")
        for e in result.errors:
            table.add_row(str(e.line), e.zone or "-", e.code, e.message)
        console.print(table)
    console.print(
        f"{result.rows} row(s): {len(result.packs)} pack(s) written to {out}, "
        f"{len(result.bad_lines)} rejected (lines {', '.join(map(str, result.bad_lines)) or '-'})"
    )
    if result.errors:
        raise typer.Exit(1)


work_orders_app = typer.Typer(help="Work orders (operator commands).", no_args_is_help=True)


@work_orders_app.command("retry")
def work_orders_retry(work_order_id: str) -> None:
    """Export a failed work order again (same as POST .../export); exit 1 if it did not fail."""
    from luneo.domains import load_domain_modules
    from luneo.manufacturing import service
    from luneo.manufacturing.models import WorkOrder

    load_domain_modules()
    try:
        with get_db().transaction() as s:
            bind_system(s)
            wo = s.execute(select(WorkOrder).where(WorkOrder.id == work_order_id)).scalar_one_or_none()
            if wo is None:
                console.print(f"no work order {work_order_id}", style="red", markup=False)
                raise typer.Exit(2)
            if wo.status != "failed":
                console.print(
                    f"work order {work_order_id} is {wo.status}: only failed work orders are retried",
                    style="red",
                    markup=False,
                )
                raise typer.Exit(1)
            bind_tenant(s, wo.brand_id)
            wo = service.start_export(s, wo, "cli")
            status, pack_id = wo.status, wo.pack_id
    except DomainError as exc:
        console.print(f"{exc.detail or exc.code}", style="red", markup=False)
        raise typer.Exit(1) from None
    console.print(f"work order {work_order_id}: {status} (pack {pack_id})", markup=False)


def register(root: typer.Typer) -> None:
    """Add `export` and `bulk` as top-level commands of the `luneo` CLI."""
    root.command("export")(export_command)
    root.command("bulk")(bulk_command)


register(app)
