"""Dashboard: production — the work-order queue (status, product, production method filters),
a work order's page (print-check findings, operator override, pack and order-bundle downloads,
history), bulk actions on selected rows (one ZIP of their packs, move to in production / done,
reported per row), and the bulk CSV personalization upload (per-line errors, then a job whose
progress bar HTMX polls).

Everything goes through `luneo.manufacturing.public` (and catalog's product list): the calls the
JSON API makes, with its permissions (`production:read`, `production:write`).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import RedirectResponse, Response

from luneo.catalog import public as catalog
from luneo.dashboard.guard import Page, page_dep
from luneo.dashboard.pages import router
from luneo.manufacturing import public as manufacturing
from luneo.platform.domain_errors import DomainError
from luneo.platform.errors import Problem, problem_from

ProductionRead = Annotated[Page, page_dep("production:read")]
ProductionWrite = Annotated[Page, page_dep("production:write", write=True)]
ProductionWriteForm = Annotated[Page, page_dep("production:write")]

PAGE_SIZE = 30
BULK_MOVES = ("in_production", "done")
MAX_SELECTED = 200


def _products(page: Page) -> list[Any]:
    return list(catalog.list_products(page.session, limit=200).data)


@router.get("/production")
def queue(
    page: ProductionRead,
    status: Annotated[list[str] | None, Query(max_length=20)] = None,
    product_id: Annotated[str, Query(max_length=40)] = "",
    method: Annotated[str, Query(max_length=16)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The work-order queue, newest first, filtered by status (repeatable), product and method."""
    wanted = [s for s in (status or []) if s]
    errors: dict[str, str] = {}
    if any(s not in manufacturing.WORK_ORDER_STATUSES for s in wanted):
        errors["status"] = page.gettext("Unknown status.")
    products = _products(page)
    rows: list[Any] = []
    next_url = None
    if not errors:
        try:
            result = manufacturing.list_work_orders(
                page.session,
                status=wanted,
                product_id=product_id or None,
                production_method=method or None,
                cursor=cursor,
                limit=PAGE_SIZE,
            )
        except Problem as exc:
            errors["cursor"] = exc.detail or exc.code
        else:
            rows = result.data
            if result.next_cursor:
                kept: list[tuple[str, str]] = [("status", s) for s in wanted]
                kept += [(k, v) for k, v in (("product_id", product_id), ("method", method)) if v]
                next_url = "/dashboard/production?" + urlencode([*kept, ("cursor", result.next_cursor)])
    return page.render(
        "production/queue.html",
        status_code=422 if errors else 200,
        rows=rows,
        errors=errors,
        statuses=manufacturing.WORK_ORDER_STATUSES,
        products=products,
        methods=sorted({p.production_method for p in products}),
        filters={"status": wanted, "product_id": product_id, "method": method},
        next_url=next_url,
        paged=bool(cursor),
        results=None,
    )


def _detail(page: Page, work_order_id: str, status_code: int = 200, **extra: Any) -> Response:
    wo = manufacturing.get_work_order(page.session, work_order_id)
    context: dict[str, Any] = {
        "wo": wo,
        "events": manufacturing.history(page.session, wo.id),
        "error": None,
        "notice": None,
    }
    context.update(extra)
    return page.render("production/detail.html", status_code=status_code, **context)


@router.post("/production/{work_order_id}/override")
def override(
    page: ProductionWrite,
    work_order_id: str,
    note: Annotated[str, Form(max_length=2000)] = "",
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Accept the blocking findings (needs_review → ready), as the API's override-checks route."""
    manufacturing.get_work_order(page.session, work_order_id)  # 404 first
    if confirm != "yes":
        return _detail(page, work_order_id, status_code=422, error=page.gettext("Tick the box to confirm."))
    try:
        manufacturing.override_checks(page.session, work_order_id, page.principal.actor, note.strip())  # type: ignore[union-attr]
    except DomainError as exc:
        problem = problem_from(exc)
        if problem.status == 404:
            raise
        return _detail(page, work_order_id, status_code=problem.status, error=problem.detail)
    return page.redirect(f"/dashboard/production/{work_order_id}?done=override")


def _to(url: str) -> Response:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


@router.get("/production/{work_order_id}/pack")
def pack(page: ProductionRead, work_order_id: str) -> Response:
    """One click: a redirect to the pack's signed, expiring URL (404 until it is built)."""
    url, _, _, _ = manufacturing.pack_download(page.session, work_order_id, manufacturing.DOWNLOAD_TTL_S)
    return _to(url)


@router.get("/production/orders/{order_id}/bundle")
def bundle(page: ProductionRead, order_id: str) -> Response:
    """The order's bundle (every item's pack): a redirect to its signed URL; 409 while not ready."""
    key, _, _ = manufacturing.build_order_bundle(page.session, order_id)
    url, _ = manufacturing.signed_url(key, f"{order_id}-bundle.zip", manufacturing.DOWNLOAD_TTL_S)
    return _to(url)


@router.post("/production/bulk")
def bulk(
    page: ProductionWrite,
    action: Annotated[str, Form(max_length=20)],
    ids: Annotated[list[str] | None, Form(max_length=64)] = None,
) -> Response:
    """Bulk actions on the selected rows: `export` (one ZIP of their packs), `in_production`,
    `done`; each row is reported (moved / its error), a failing row never stops the others."""
    chosen = list(dict.fromkeys(ids or []))[:MAX_SELECTED]
    if action not in (*BULK_MOVES, "export"):
        raise Problem(422, "invalid_action", "Choose export, in_production or done.")
    if not chosen:
        results: dict[str, Any] = {
            "action": action,
            "rows": {},
            "error": page.gettext("Select at least one work order."),
        }
        return _results(page, results, 422)
    if action == "export":
        built, errors = manufacturing.build_selection_bundle(page.session, chosen)
        url = None
        if built is not None:
            url, _ = manufacturing.signed_url(built[0], "work-orders.zip", manufacturing.DOWNLOAD_TTL_S)
        rows = {wo_id: errors.get(wo_id) for wo_id in chosen}
        results = {"action": action, "rows": rows, "url": url, "error": None}
    else:
        rows = manufacturing.transition_many(page.session, chosen, action, page.principal.actor)  # type: ignore[union-attr]
        results = {"action": action, "rows": rows, "url": None, "error": None}
    outcomes = list(results["rows"].values())
    return _results(page, results, 422 if all(outcomes) else 200)


def _results(page: Page, results: dict[str, Any], status_code: int) -> Response:
    codes = {
        "not_found": page.gettext("No such work order."),
        "pack_not_ready": page.gettext("No pack built yet."),
    }
    return page.render("production/bulk_results.html", status_code=status_code, results=results, codes=codes)


# --------------------------------------------------------------------------- bulk CSV upload


@router.get("/production/bulk-upload")
def upload_form(page: ProductionWriteForm) -> Response:
    """The bulk CSV personalization form: a product and a CSV whose header names its zones."""
    return page.render(
        "production/upload.html", products=_products(page), errors=[], job=None, form={}, rows=0, problem=None
    )


@router.post("/production/bulk-upload")
async def upload(
    page: ProductionWrite,
    product_id: Annotated[str, Form(max_length=40)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Validate every line (errors by line, zone and rule); the good lines become snapshots and
    packs in a background job, whose progress the page polls."""
    problem = None
    raw = await file.read(manufacturing.MAX_CSV_BYTES + 1) if file is not None else b""
    if not product_id:
        problem = page.gettext("Choose a product.")
    elif not raw:
        problem = page.gettext("Choose a CSV file.")
    elif len(raw) > manufacturing.MAX_CSV_BYTES:
        problem = page.gettext("The file is larger than 1 MB.")
    text = ""
    if problem is None:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            problem = page.gettext("The file is not UTF-8 text.")
    products = _products(page)
    form = {"product_id": product_id}
    if problem is not None:
        return page.render(
            "production/upload.html",
            status_code=422,
            products=products,
            errors=[],
            job=None,
            form=form,
            rows=0,
            problem=problem,
        )
    name = (file.filename if file is not None else None) or "bulk.csv"
    job_id, rows, errors = manufacturing.start_bulk(
        page.session,
        page.brand_id,
        product_id,
        text,
        name[:200],
        page.principal.actor,  # type: ignore[union-attr]
    )
    job = manufacturing.bulk_job(page.session, job_id) if job_id else None
    return page.render(
        "production/upload.html",
        status_code=422 if errors and job is None else 200,
        products=products,
        errors=errors,
        job=job,
        form=form,
        rows=rows,
        problem=None,
    )


@router.get("/production/bulk-upload/{job_id}")
def upload_progress(page: ProductionRead, job_id: str) -> Response:
    """The job's progress bar (HTMX polls it until the job is finished), with the download link."""
    job = manufacturing.bulk_job(page.session, job_id)
    url = None
    if job["status"] == "success" and job["result"].get("key"):
        url, _ = manufacturing.signed_url(
            str(job["result"]["key"]), f"bulk-{job_id}.zip", manufacturing.DOWNLOAD_TTL_S
        )
    return page.render("production/_progress.html", job=job, url=url)


# Last: `/production/{work_order_id}` would otherwise catch `/production/bulk-upload`.
@router.get("/production/{work_order_id}")
def work_order(page: ProductionRead, work_order_id: str, done: str = "") -> Response:
    """A work order: print-check findings, override, downloads and history."""
    notice = page.gettext("Checks overridden: the work order is ready.") if done == "override" else None
    return _detail(page, work_order_id, notice=notice)
