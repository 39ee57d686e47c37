"""Structured logs (structlog) with the request id, and secrets redacted.

One configuration for every process (API, `luneo worker`, CLI): structlog loggers and the stdlib
loggers of libraries (Dramatiq, uvicorn, SQLAlchemy) render through the same processors, so each
line is one JSON object (`LUNEO_LOG_JSON=true`) at `LUNEO_LOG_LEVEL`. Tracebacks never carry local
variables (structlog's dict tracebacks and Rich both default to showing them): JSON lines hold a
structured traceback without locals, console lines a plain one.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer

from luneo.platform.context import request_id_var
from luneo.platform.error_reporting import send_errors_to_sentry

if TYPE_CHECKING:
    from luneo.platform.config import Settings

_CHATTY_LOGGERS = ("apscheduler",)
_SECRET_WORDS = ("password", "secret", "token", "authorization", "api_key", "apikey", "signature", "cookie")


def _add_request_id(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    rid = request_id_var.get()
    if rid and "request_id" not in event:
        event["request_id"] = rid
    return event


def _redact(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in list(event):
        if any(word in key.lower() for word in _SECRET_WORDS):
            event[key] = "[redacted]"
    return event


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
        _redact,
    ]


def _render_processors(json_logs: bool) -> list[Any]:
    """Exception formatting (never with locals) and the renderer."""
    if json_logs:
        return [
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(),
        ]
    return [
        structlog.processors.format_exc_info,  # a plain string: ConsoleRenderer adds no Rich locals
        structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback),
    ]


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    """Configure structlog and the stdlib root logger (same format) once per process."""
    lvl = getattr(logging, level.upper(), logging.INFO)
    shared = _shared_processors()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *_render_processors(json_logs),
            ],
        )
    )
    logging.basicConfig(handlers=[handler], level=lvl, force=True)
    for chatty in _CHATTY_LOGGERS:  # a line per scheduled run at INFO: only their warnings
        logging.getLogger(chatty).setLevel(max(lvl, logging.WARNING))
    structlog.configure(
        processors=[*shared, send_errors_to_sentry, *_render_processors(json_logs)],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def configure_process_logging(settings: Settings) -> None:
    """`configure_logging` from `LUNEO_LOG_LEVEL` / `LUNEO_LOG_JSON` (API, worker, CLI)."""
    configure_logging(settings.log_level, settings.log_json)
