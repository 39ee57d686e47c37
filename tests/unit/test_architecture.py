"""The code's shape is a contract: import-linter layering, the domain registry, ruff.

Fails with the tools' own output, so a broken boundary reads the same here as under `make lint`.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from luneo.domains import ALL, DOMAINS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Packages under src/luneo/ that are not domains (the core, the platform, migrations).
NOT_DOMAINS = {"design", "platform", "migrations"}


def _run(*cmd: str) -> None:
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable} (it is a dev dependency)")
    return str(path)


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def _names(modules: list[str]) -> set[str]:
    return {m.removeprefix("luneo.") for m in modules}


def test_import_contracts_hold() -> None:
    """Core pure, platform domain-free, domains only through each other's `public` module."""
    _run(_tool("lint-imports"), "--no-cache")


def test_ruff_check_passes() -> None:
    _run(_tool("ruff"), "check", "src", "tests", "bench")


def test_ruff_format_is_clean() -> None:
    _run(_tool("ruff"), "format", "--check", "src", "tests", "bench")


def test_every_domain_package_is_registered() -> None:
    """A new package under src/luneo/ is a domain only once the registry lists it."""
    packages = {p.parent.name for p in (ROOT / "src" / "luneo").glob("*/__init__.py")}
    assert packages - NOT_DOMAINS == {d.name for d in DOMAINS}


def test_every_registered_domain_is_under_every_contract() -> None:
    """Registering a domain without adding it to the import-linter contracts fails here."""
    domains = {d.name for d in DOMAINS}
    contracts = _contracts()
    assert _names(contracts["domains-through-public"]["modules"]) == domains
    assert domains <= _names(contracts["core-is-pure"]["forbidden_modules"])
    assert domains <= _names(contracts["platform-knows-no-domain"]["forbidden_modules"])
    domain_layer = contracts["rings"]["layers"][1]
    assert _names([m.strip() for m in domain_layer.split(":")]) == domains


@pytest.mark.parametrize("domain", ALL, ids=lambda d: d.name)
def test_registry_names_existing_modules(domain: Any) -> None:
    """Every module the registry loads by name exists and lives in its own package."""
    specs = [domain.models, domain.handlers, domain.tasks, domain.seed, *domain.routers, *domain.root_routers]
    for spec in filter(None, specs):
        module = spec.partition(":")[0]
        assert module.startswith(f"luneo.{domain.name}."), spec
        assert importlib.util.find_spec(module) is not None, spec
