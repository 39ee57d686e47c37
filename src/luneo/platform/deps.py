"""Route dependencies as `Annotated` aliases, defined once: `def f(t: CatalogReadDep)`.

Each `…Dep` is a `Tenant` (the caller, checked for the permission named, with a session bound to
their brand — one transaction per request, see `auth.guarded`), except `PrincipalDep` (the caller
only, no brand session). Routes that need a permission not listed here add an alias here.
"""

from __future__ import annotations

from typing import Annotated

from luneo.platform.auth import Principal, Tenant, guard, principal_dep

PrincipalDep = Annotated[Principal, principal_dep()]
# Any member of a brand (no particular permission).
BrandMemberDep = Annotated[Tenant, guard()]

BrandReadDep = Annotated[Tenant, guard("brand:read")]
BrandManageDep = Annotated[Tenant, guard("brand:manage")]
MembersManageDep = Annotated[Tenant, guard("members:manage")]
KeysManageDep = Annotated[Tenant, guard("keys:manage")]

CatalogReadDep = Annotated[Tenant, guard("catalog:read")]
CatalogWriteDep = Annotated[Tenant, guard("catalog:write")]
WidgetDep = Annotated[Tenant, guard("widget")]
# Prices the shopper's design (widget quote): writes nothing, so a read-only transaction.
WidgetQuoteDep = Annotated[Tenant, guard("catalog:read", write=False)]

DesignsValidateDep = Annotated[Tenant, guard("designs:validate")]
# Checks that write nothing (POST only to carry a body): a read-only transaction, no write lock.
DesignsCheckDep = Annotated[Tenant, guard("designs:validate", write=False)]
DesignsSnapshotDep = Annotated[Tenant, guard("designs:snapshot")]
DesignsWriteDep = Annotated[Tenant, guard("designs:write")]

RendersPreviewDep = Annotated[Tenant, guard("renders:preview")]
RendersWriteDep = Annotated[Tenant, guard("renders:write")]

CartDep = Annotated[Tenant, guard("cart:use")]
OrdersReadDep = Annotated[Tenant, guard("orders:read")]
OrdersWriteDep = Annotated[Tenant, guard("orders:write")]
OrdersFromCartDep = Annotated[Tenant, guard("orders:write", "cart:use")]
PaymentsWriteDep = Annotated[Tenant, guard("payments:write")]

ProductionReadDep = Annotated[Tenant, guard("production:read")]
ProductionWriteDep = Annotated[Tenant, guard("production:write")]

BillingReadDep = Annotated[Tenant, guard("billing:read")]
BillingManageDep = Annotated[Tenant, guard("billing:manage")]
CreditsReadDep = Annotated[Tenant, guard("credits:read")]
CreditsBuyDep = Annotated[Tenant, guard("credits:buy")]

AnalyticsReadDep = Annotated[Tenant, guard("analytics:read", write=False)]

AiUseDep = Annotated[Tenant, guard("ai:use")]
# AI submissions: the service commits its own rows (metered), so the request session only reads.
AiSubmitDep = Annotated[Tenant, guard("ai:use", write=False)]
