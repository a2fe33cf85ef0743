"""Logging set-up: structlog, JSON lines when stderr is not a terminal, readable lines when it is.

Every transition is logged by the engine with record id, event, actor, from and to; this
module only decides where and how those lines go. It must not log secrets: settings objects
keep passwords in ``SecretStr``.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import orjson
import structlog


def _json_line(event: object, **options: Any) -> str:
    """One JSON log line, UTF-8 text as it is (orjson: a sixth of the stdlib encoder's time per line).
    structlog passes ``default``, its fallback for values JSON cannot hold."""
    return orjson.dumps(event, **options).decode()


def configure(*, verbose: bool = False, quiet: bool = False) -> None:
    """Send structlog output to stderr: INFO for scripts and services, WARNING on a terminal or when quiet.

    ``CHENGXIN_LOG_LEVEL`` overrides both; ``verbose`` wins over ``quiet``.
    """
    tty = sys.stderr.isatty()
    default = "INFO" if verbose or not (tty or quiet) else "WARNING"
    level = getattr(logging, os.environ.get("CHENGXIN_LOG_LEVEL", default).upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if tty
        else structlog.processors.JSONRenderer(serializer=_json_line)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
