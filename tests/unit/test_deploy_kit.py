"""The deployment kit (`deploy/`) is consistent with the code it deploys (no container daemon here:
the files are checked structurally).

- compose.yaml: api ×2 and worker ×2 start only after the one-shot migration (and the bucket)
  succeeded; production flags (no migration, no seeding by `serve`);
- every `LUNEO_*` variable the kit sets is a setting Luneo reads;
- the shipped env file is refused by the production check until its placeholders are replaced,
  and accepted once they are;
- the Dockerfile is multi-stage, non-root, installs the lock file and checks `/healthz`.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from luneo.platform.config import Settings, production_problems
from luneo.platform.jobs import JobSettings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
LUNEO_SERVICES = ("api", "worker", "migrate")


def read_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"{path.name}: not NAME=value: {line!r}"
            values[name.strip()] = value.strip()
    return values


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _env_files(service: dict[str, Any]) -> list[Path]:
    files = service.get("env_file", [])
    return [DEPLOY / f for f in ([files] if isinstance(files, str) else files)]


def test_compose_runs_two_apis_and_two_workers_after_one_migration(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"proxy", "api", "worker", "migrate", "postgres", "redis", "minio", "createbucket"} <= set(
        services
    )
    for name in ("api", "worker"):
        svc = services[name]
        assert svc["deploy"]["replicas"] == 2
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert svc["depends_on"]["createbucket"]["condition"] == "service_completed_successfully"
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["api"]["command"][0] == "serve"
    assert {"--no-migrate", "--no-seed"} <= set(services["api"]["command"])
    assert services["worker"]["command"][0] == "worker"
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"] and migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"
    for name in LUNEO_SERVICES:  # one image, built from the Dockerfile of the kit
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / services[name]["build"]["context"] / "requirements.lock").exists()


def test_every_file_compose_mentions_exists(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        for path in _env_files(svc):
            assert path.exists(), (name, path)
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), (name, source)


def _luneo_variables(compose: dict[str, Any]) -> dict[str, set[str]]:
    """Every LUNEO_* name the kit sets, with where it is set."""
    found: dict[str, set[str]] = {}
    for name in LUNEO_SERVICES:
        svc = compose["services"][name]
        for path in _env_files(svc):
            for var in read_env(path):
                found.setdefault(var, set()).add(path.name)
        env = svc.get("environment") or {}
        for var in env if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]:
            found.setdefault(var, set()).add(f"compose:{name}")
    for var in re.findall(r"\b(LUNEO_[A-Z0-9_]+)=", (DEPLOY / "Dockerfile").read_text()):
        found.setdefault(var, set()).add("Dockerfile")
    return {k: v for k, v in found.items() if k.startswith("LUNEO_")}


def test_every_luneo_variable_the_kit_sets_is_a_setting(compose: dict[str, Any]) -> None:
    known = {f"LUNEO_{f.upper()}" for f in Settings.model_fields}
    known |= {f"LUNEO_JOB_{f.upper()}" for f in JobSettings.model_fields}
    found = _luneo_variables(compose)
    assert {"LUNEO_ENV", "LUNEO_DATABASE_URL", "LUNEO_REDIS_URL", "LUNEO_STORAGE_URL"} <= set(found)
    unknown = {var: where for var, where in found.items() if var not in known}
    assert not unknown, f"not read by Luneo (typo?): {unknown}"


def test_the_shipped_env_file_is_refused_in_production_until_its_placeholders_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    for var in [v for v in os.environ if v.startswith("LUNEO_")]:
        monkeypatch.delenv(var)
    shipped = read_env(DEPLOY / "luneo.env")
    assert shipped["LUNEO_ENV"] == "production"
    problems = production_problems(Settings(_env_file=None, **_fields(shipped)))  # type: ignore[call-arg]
    text = "\n".join(problems)
    assert "LUNEO_SECRET_KEY" in text and "dev payment provider" in text, problems

    filled = {
        **shipped,
        "LUNEO_SECRET_KEY": "k" * 48,
        "LUNEO_STRIPE_SECRET_KEY": "sk_live_0123456789",
        "LUNEO_STRIPE_WEBHOOK_SECRET": "whsec_0123456789",
    }
    assert production_problems(Settings(_env_file=None, **_fields(filled))) == []  # type: ignore[call-arg]


def _fields(env: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix("LUNEO_").lower(): v for k, v in env.items() if k.startswith("LUNEO_")}


def test_placeholders_agree_across_the_env_files() -> None:
    luneo, migrate = read_env(DEPLOY / "luneo.env"), read_env(DEPLOY / "migrate.env")
    postgres, minio = read_env(DEPLOY / "postgres.env"), read_env(DEPLOY / "minio.env")
    assert f":{postgres['APP_DB_PASSWORD']}@" in luneo["LUNEO_DATABASE_URL"]
    owner = f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@"
    assert migrate["LUNEO_DATABASE_URL"].startswith(owner)
    assert luneo["LUNEO_DATABASE_URL"].rsplit("/", 1)[1] == postgres["POSTGRES_DB"]
    assert (luneo["AWS_ACCESS_KEY_ID"], luneo["AWS_SECRET_ACCESS_KEY"]) == (
        minio["APP_ACCESS_KEY"],
        minio["APP_SECRET_KEY"],
    )
    assert luneo["LUNEO_STORAGE_URL"].startswith(f"s3://{minio['BUCKET_NAME']}/")


def test_the_proxy_is_the_only_trusted_forwarder(compose: dict[str, Any]) -> None:
    proxy_ip = compose["services"]["proxy"]["networks"]["backend"]["ipv4_address"]
    assert read_env(DEPLOY / "luneo.env")["LUNEO_TRUSTED_PROXIES"] == proxy_ip
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert re.search(r"dynamic a \{\s*name api\s*port 8000", caddy)
    assert re.search(r"@internal path /metrics", caddy)


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, re.M)
    assert len(stages) >= 2 and stages[0][1] == "builder"
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert "-r requirements.lock" in text
    assert "COPY --from=builder /opt/venv /opt/venv" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    healthcheck = re.search(r"^HEALTHCHECK (?:.*\\\n)*.*$", text, re.M)
    assert healthcheck and "/healthz" in healthcheck.group(0)
    entrypoint = re.search(r"^ENTRYPOINT (\[.*\])", text, re.M)
    assert entrypoint and yaml.safe_load(entrypoint.group(1))[-1] == "luneo"
    cmd = re.search(r"^CMD (\[.*\])", text, re.M)
    assert cmd
    command = yaml.safe_load(cmd.group(1))
    assert command[0] == "serve" and {"--no-migrate", "--no-seed"} <= set(command)
    for lib in ("libgl1", "libegl1", "libfontconfig1"):  # skia-python's system libraries
        assert lib in text
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert ignore[ignore.index("**") + 1 :][:4] == [
        "!requirements.lock",
        "!pyproject.toml",
        "!README.md",
        "!src/**",
    ]


def test_postgres_init_script_creates_a_login_that_cannot_bypass_row_level_security() -> None:
    script = (DEPLOY / "postgres" / "10-luneo-roles.sh").read_text()
    assert "NOSUPERUSER NOBYPASSRLS" in script and "GRANT luneo_app TO luneo_api" in script
    assert shlex.split(read_env(DEPLOY / "luneo.env")["LUNEO_DATABASE_URL"])[0].startswith(
        "postgresql://luneo_api:"
    )
