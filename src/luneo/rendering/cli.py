"""`luneo render`: render a catalog product offline through the same pipeline as the jobs.

    luneo render --product DEMO-MUG --set name=Emma --set photo=@photo.png \\
        --formats png,svg,glb,usdz --out out/

Builds the spec with the rules engine (violations are printed, exit code 1), builds the
Scene, runs the writers and prints the spec_hash and each file written. `@file` values are
uploaded as assets of the brand first, through the catalog's upload checks.
Mount with `app.command("render")(luneo.rendering.cli.render)` (or `app.add_typer(cli.app)`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from sqlalchemy import select

from luneo.platform.domain_errors import DomainError

app = typer.Typer(help="Render products offline.", no_args_is_help=True, pretty_exceptions_enable=False)
err = Console(stderr=True)


def _parse_sets(values: list[str]) -> list[tuple[str, str]]:
    out = []
    for value in values:
        zone, sep, text = value.partition("=")
        if not sep or not zone.strip():
            raise typer.BadParameter(f"--set expects ZONE=TEXT or ZONE=@file, got {value!r}")
        out.append((zone.strip(), text))
    return out


def _inputs(session: Any, product: Any, sets: list[tuple[str, str]]) -> dict[str, Any]:
    """Zone inputs from --set values (text, @image file, or a colour for colour zones)."""
    from luneo.catalog import public as catalog

    kinds = {z.key: z.kind for z in product.zones}
    inputs: dict[str, Any] = {}
    for zone, value in sets:
        kind = kinds.get(zone)
        if value.startswith("@"):
            path = Path(value[1:]).expanduser()
            if not path.is_file():
                raise typer.BadParameter(f"--set {zone}: no such file {path}")
            asset = catalog.create_asset(
                session, path.read_bytes(), filename=path.name, kind="upload", created_by="cli"
            )
            inputs[zone] = {"kind": "image", "asset_id": asset.id}
        elif kind == "colour":
            inputs[zone] = {"kind": "colour", "color": value}
        else:
            inputs[zone] = {"kind": "text", "text": value}
    return inputs


def render(
    product: str = typer.Option(..., "--product", help="Product SKU (or id) in the brand's catalog."),
    sets: list[str] = typer.Option(
        [], "--set", help="ZONE=TEXT, ZONE=@image.png or ZONE=#rrggbb (repeatable)."
    ),
    formats: str = typer.Option(
        "png,svg,glb,usdz",
        "--formats",
        help="Comma list of png, webp, svg, print, glb, usdz, pdf, dxf, pack, thumbnail.",
    ),
    out: Path = typer.Option(Path("render-out"), "--out", help="Directory to write the files into."),
    brand: str = typer.Option("demo", "--brand", help="Brand slug."),
    width: int = typer.Option(1024, "--width", min=64, max=8192, help="Preview width in px (png/webp)."),
    mockup: bool = typer.Option(
        False, "--mockup", help="png/webp previews show the design on the product photo (its mockup)."
    ),
) -> None:
    """Render a product with the given zone values into OUT (offline: no server, no job)."""
    from luneo.catalog import public as catalog
    from luneo.catalog.public import Product
    from luneo.designs import public as designs
    from luneo.designs.public import BrandResources
    from luneo.platform.database import get_db
    from luneo.platform.tenancy import bind_system, bind_tenant
    from luneo.rendering import pipeline
    from luneo.tenancy.public import Brand

    parsed = _parse_sets(sets)
    wanted = [f for f in formats.split(",") if f.strip()]
    with get_db().transaction() as s:
        bind_system(s)
        brand_row = s.execute(select(Brand).where(Brand.slug == brand)).scalar_one_or_none()
        if brand_row is None:
            err.print(f"[red]no brand {brand!r}[/red] (run `luneo seed demo` for the demo brand)")
            raise typer.Exit(2)
        bind_tenant(s, brand_row.id)
        row = s.execute(select(Product).where(Product.sku == product)).scalar_one_or_none() or s.get(
            Product, product
        )
        if row is None:
            err.print(f"[red]no product {product!r} in brand {brand}[/red]")
            raise typer.Exit(2)
        try:
            product_def = catalog.product_def_of(s, row)
            inputs = _inputs(s, product_def, parsed)
            result = designs.check_inputs(s, row.id, inputs)
        except DomainError as exc:
            err.print(f"[red]{exc.code}[/red]: {exc.detail}")
            raise typer.Exit(1) from None
        for w in result.warnings:
            err.print(f"warning  {w.zone or '-'}  {w.code}  {w.message}")
        if not result.ok or result.spec is None or result.spec_hash is None:
            for v in result.violations:
                err.print(f"violation  {v.zone or '-'}  {v.code}  {v.message}")
            raise typer.Exit(1)
        try:
            fmts = pipeline.normalise_formats(wanted, result.spec, skip_missing_model=True)
            skipped = [f for f in wanted if f.strip().lower() in pipeline.MODEL_FORMATS and f not in fmts]
            for f in skipped:
                err.print(f"skipped {f}: product {row.sku} has no 3D model")
            prepared = pipeline.prepare(
                result.spec, result.spec_hash, BrandResources(s), fmts, width=width, mockup=mockup
            )
        except pipeline.RenderError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    output = pipeline.write(prepared)
    out.mkdir(parents=True, exist_ok=True)
    typer.echo(f"spec_hash {result.spec_hash}")
    for file in output.files.values():
        path = out / file.filename
        path.write_bytes(file.data)
        typer.echo(f"{path}\t{len(file.data)} bytes")


@app.callback()
def _group() -> None:
    """Rendering commands."""


app.command("render")(render)
