"""`luneo worker` logs like the API: JSON lines (structlog and stdlib loggers such as Dramatiq's),
`LUNEO_LOG_LEVEL` respected, and tracebacks without local variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SECRET = "s3cr3t-local-value-42"

# Runs the real `luneo worker` command with `run_worker` replaced by a job that fails.
SCRIPT = f"""
import logging
import structlog
import luneo.worker


def charge_card(card_number):
    api_credential = {SECRET!r}
    raise RuntimeError("card declined")


def fake_run_worker(**_kwargs):
    try:
        charge_card("4242")
    except RuntimeError:
        structlog.get_logger("luneo.jobs").exception("job_failed", job_id="job_1")
        logging.getLogger("dramatiq.worker.WorkerThread").error("Failed to process message", exc_info=True)
    structlog.get_logger("luneo.jobs").info("job_info_line")
    logging.getLogger("dramatiq.worker").info("stdlib_info_line")


luneo.worker.run_worker = fake_run_worker
from luneo.cli import app

app(["worker"], standalone_mode=False)
"""


def _run_worker_cli(tmp_path: Path, **env: str) -> list[str]:
    data = tmp_path / "var"
    data.mkdir(exist_ok=True)
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LUNEO_")},
        "LUNEO_DATA_DIR": str(data),
        "LUNEO_ENV": "test",
        **env,
    }
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=full_env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]


def test_worker_cli_logs_one_json_object_per_line_without_locals(tmp_path: Path) -> None:
    lines = _run_worker_cli(tmp_path, LUNEO_LOG_JSON="true", LUNEO_LOG_LEVEL="INFO")
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    by_event = {e["event"]: e for e in events}
    assert {"job_failed", "Failed to process message", "job_info_line", "stdlib_info_line"} <= set(by_event)
    for name in ("job_failed", "Failed to process message"):
        rendered = json.dumps(by_event[name]["exception"])
        assert "card declined" in rendered and "charge_card" in rendered
    assert by_event["Failed to process message"]["level"] == "error"
    assert by_event["stdlib_info_line"]["logger"] == "dramatiq.worker"
    assert SECRET not in "\n".join(lines)


def test_worker_cli_respects_log_level(tmp_path: Path) -> None:
    lines = _run_worker_cli(tmp_path, LUNEO_LOG_JSON="true", LUNEO_LOG_LEVEL="WARNING")
    events = [json.loads(line)["event"] for line in lines]
    assert "job_failed" in events and "Failed to process message" in events
    assert "job_info_line" not in events and "stdlib_info_line" not in events


def test_console_logs_have_no_locals_either(tmp_path: Path) -> None:
    lines = _run_worker_cli(tmp_path, LUNEO_LOG_JSON="false", LUNEO_LOG_LEVEL="INFO")
    text = "\n".join(lines)
    assert "card declined" in text and "job_failed" in text
    assert SECRET not in text
