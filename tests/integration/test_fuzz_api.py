"""API fuzzing with schemathesis against our own OpenAPI: no generated request may cause a 5xx.

Every operation is called with schema-valid and -invalid data under a real secret key, so bad
input must always end as a 4xx problem (never a 500). Runs on SQLite (the backend does not
change request validation); examples per operation are capped to keep the suite fast.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

SKIP_PATHS = ("/api/v1/webhooks/",)
EXAMPLES = 5  # signature-checked raw bodies: covered by the payments tests


@pytest.fixture
def fuzz_app(tmp_path, sqlite_template, monkeypatch):
    import shutil

    from luneo.app import create_app
    from luneo.platform import config, database
    from luneo.platform.auth import clear_auth_caches

    data = tmp_path / "var"
    data.mkdir()
    shutil.copy(sqlite_template, data / "luneo.db")
    env = {
        "LUNEO_DATA_DIR": str(data),
        "LUNEO_LOG_LEVEL": "ERROR",
        "LUNEO_RATE_LIMIT_KEY": "1000000/minute",
        "LUNEO_RATE_LIMIT_IP": "1000000/minute",
        "LUNEO_ARGON2_MEMORY_KIB": "1024",
        "LUNEO_ARGON2_TIME_COST": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for var in ("LUNEO_REDIS_URL", "LUNEO_STORAGE_URL", "LUNEO_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    config.get_settings.cache_clear()
    database.set_db(database.Database(config.get_settings()))
    clear_auth_caches()
    from tests.conftest import make_brand

    brand = make_brand("fuzz")
    yield create_app(config.get_settings(), start_workers=False), {"Authorization": f"Bearer {brand.sk}"}
    database.set_db(None)
    config.get_settings.cache_clear()


def test_no_generated_request_causes_a_server_error(fuzz_app):
    app, auth = fuzz_app
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(SKIP_PATHS):
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def call(case) -> None:
            try:
                response = case.call(headers=auth)
            except Exception as exc:  # the test client re-raises what the app did not handle
                failures.append(
                    f"{case.method} {case.formatted_path} raised {type(exc).__name__}: {exc}"[:400]
                )
                return
            expected = response.status_code == 503 and "ai_provider_not_configured" in response.text
            if response.status_code >= 500 and not expected:  # chat without a provider is a documented 503
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
                )

        call()
    assert operations > 50
    assert not failures, "\n".join(failures[:20])
