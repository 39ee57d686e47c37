"""Per-domain resource factories for the tenant-isolation test.

Each module here registers, for a path parameter name used by routes (e.g. `product_id`),
a function that creates such a resource in a brand and returns its id, plus optional
valid request bodies for mutation routes, so the isolation test can call every route of
every domain with another brand's ids.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

# param name -> factory(client, brand) -> id
FACTORIES: dict[str, Callable[[Any, Any], str]] = {}
# (METHOD, path template) -> body factory(client, brand, ids) -> json body (or ("files", {...}))
BODIES: dict[tuple[str, str], Callable[[Any, Any, dict[str, str]], Any]] = {}


def factory(param: str) -> Callable[[Callable[[Any, Any], str]], Callable[[Any, Any], str]]:
    def register(fn: Callable[[Any, Any], str]) -> Callable[[Any, Any], str]:
        FACTORIES[param] = fn
        return fn

    return register


def body(method: str, path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        BODIES[(method.upper(), path)] = fn
        return fn

    return register


def load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
