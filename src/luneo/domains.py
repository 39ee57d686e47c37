"""The registry of Luneo's domains: what each one contributes to the app, the worker and the seed.

Every domain package is listed once here, with the modules the edges load by name: its SQLAlchemy
models, its event subscribers, its job actors, its routers and its demo seeder. `app.py`,
`models.py`, `worker.py`, `seed.py` and the CLI read this registry; nothing else imports a
domain by name. Adding a domain is one entry here (see docs/DOMAIN_GUIDE.md) plus its
import-linter contracts in pyproject.toml.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

ModuleKind = Literal["models", "handlers", "tasks", "seed"]


@dataclass(frozen=True)
class Domain:
    """One package under `luneo/` and the modules of it the edges load by name."""

    name: str
    #: SQLAlchemy models (`Base.metadata` must know every table: Alembic, tests).
    models: str | None = None
    #: Event subscribers (`luneo.platform.events.subscribe`), loaded after every model.
    handlers: str | None = None
    #: Job actors (`luneo.platform.jobs.actor`) and periodic jobs.
    tasks: str | None = None
    #: `"module:attribute"` routers mounted under `/api/v1` (attribute defaults to `router`).
    routers: tuple[str, ...] = ()
    #: Routers mounted at the root: signed downloads, hosted pages.
    root_routers: tuple[str, ...] = ()
    #: Module with `seed_demo(session, brand) -> None` (idempotent) adding demo data.
    seed: str | None = None
    #: `"module:attribute"` functions `install(app)` run once the app exists (exception handlers
    #: for the domain's own pages).
    app_hooks: tuple[str, ...] = ()

    def module(self, kind: ModuleKind) -> str | None:
        """The module name of one kind, or None when the domain has none."""
        name: str | None = getattr(self, kind)
        return name


# The platform is not a domain, but it owns tables, a periodic job and the file download route.
PLATFORM = Domain(
    name="platform",
    models="luneo.platform.models",
    tasks="luneo.platform.idempotency",  # registers the expired-keys cleanup hook
    root_routers=("luneo.platform.storage:files_router",),
)

#: Every domain, in mounting order (routers of earlier domains match first).
DOMAINS: tuple[Domain, ...] = (
    Domain("tenancy", models="luneo.tenancy.models", routers=("luneo.tenancy.api",)),
    Domain(
        "notifications",
        models="luneo.notifications.models",
        handlers="luneo.notifications.handlers",
        tasks="luneo.notifications.tasks",
        root_routers=("luneo.notifications.api",),  # one-click unsubscribe (RFC 8058)
    ),
    Domain(
        "catalog",
        models="luneo.catalog.models",
        routers=("luneo.catalog.api",),
        seed="luneo.catalog.seed",
    ),
    Domain("designs", models="luneo.designs.models", routers=("luneo.designs.api",)),
    Domain(
        "rendering",
        models="luneo.rendering.models",
        tasks="luneo.rendering.tasks",
        routers=("luneo.rendering.api",),
    ),
    Domain(
        "commerce",
        models="luneo.commerce.models",
        handlers="luneo.commerce.handlers",
        routers=("luneo.commerce.api",),
    ),
    Domain(
        "payments",
        models="luneo.payments.models",
        routers=("luneo.payments.api",),
        root_routers=("luneo.payments.pages:router",),
    ),
    Domain(
        "manufacturing",
        models="luneo.manufacturing.models",
        handlers="luneo.manufacturing.handlers",
        tasks="luneo.manufacturing.tasks",
        routers=("luneo.manufacturing.api",),
    ),
    Domain(
        "credits",
        models="luneo.credits.models",
        handlers="luneo.credits.handlers",
        routers=("luneo.credits.api",),
    ),
    Domain(
        "billing",
        models="luneo.billing.models",
        handlers="luneo.billing.handlers",
        tasks="luneo.billing.tasks",
        routers=("luneo.billing.api",),
        root_routers=("luneo.billing.api:pages_router",),
    ),
    Domain("ai", models="luneo.ai.models", tasks="luneo.ai.tasks", routers=("luneo.ai.api",)),
    Domain(
        "widget",
        routers=("luneo.widget.api", "luneo.widget.photo_tools"),
        root_routers=("luneo.widget.pages:router", "luneo.widget.share_page:router"),
    ),
    Domain("analytics", models="luneo.analytics.models", routers=("luneo.analytics.api",)),
    Domain(
        "integrations",
        models="luneo.integrations.shopify.models",
        handlers="luneo.integrations.shopify.handlers",
        tasks="luneo.integrations.shopify.tasks",
        root_routers=("luneo.integrations.shopify.api:router",),
    ),
    Domain(
        "webhooks",
        models="luneo.webhooks.models",
        handlers="luneo.webhooks.handlers",
        tasks="luneo.webhooks.tasks",
        routers=("luneo.webhooks.api",),
        app_hooks=("luneo.webhooks.openapi:install",),  # the event catalogue in the OpenAPI `webhooks`
    ),
    Domain(
        "fulfilment",
        models="luneo.fulfilment.models",
        handlers="luneo.fulfilment.handlers",
        tasks="luneo.fulfilment.tasks",
        routers=("luneo.fulfilment.api",),
        root_routers=("luneo.fulfilment.api:hooks_router",),
    ),
    Domain(
        "dashboard",
        root_routers=("luneo.dashboard.pages:router",),
        app_hooks=("luneo.dashboard.errors:install",),
    ),
)

#: The platform first, then every domain.
ALL: tuple[Domain, ...] = (PLATFORM, *DOMAINS)


def module_names(kind: ModuleKind, domains: Iterable[Domain] = ALL) -> list[str]:
    """The registered modules of one kind, in registry order."""
    return [name for d in domains if (name := d.module(kind)) is not None]


def import_modules(names: Iterable[str]) -> list[ModuleType]:
    """Import modules by name: the one place Luneo loads its own code by string."""
    return [importlib.import_module(name) for name in names]


def load_attribute(spec: str, default: str) -> Any:
    """`"package.module:attribute"` (attribute defaults to `default`) → the imported object."""
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr or default)


def load_models() -> None:
    """Import every model module, then every event subscriber (they may use any model)."""
    import_modules(module_names("models"))
    import_modules(module_names("handlers"))


def load_domain_modules() -> None:
    """Import every domain's models, event subscribers and job actors (app, CLI, worker, tools)."""
    load_models()
    import_modules(module_names("tasks"))


def api_routers() -> list[Any]:
    """The routers mounted under `/api/v1`, in registry order."""
    return [load_attribute(spec, "router") for d in ALL for spec in d.routers]


def root_routers() -> list[Any]:
    """The routers mounted at the root, in registry order."""
    return [load_attribute(spec, "router") for d in ALL for spec in d.root_routers]


def app_hooks() -> list[Any]:
    """Each domain's `install(app)` hooks, in registry order."""
    return [load_attribute(spec, "install") for d in ALL for spec in d.app_hooks]


def demo_seeders() -> list[Any]:
    """Each domain's `seed_demo(session, brand)` function, in registry order."""
    return [load_attribute(name, "seed_demo") for name in module_names("seed")]
