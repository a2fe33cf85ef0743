"""Where the command line's log lines go: stderr, JSON lines when it is not a terminal, readable
lines when it is.

The engine logs through the standard library's ``chengxin`` loggers (``workflow.log``) and never
configures output; the CLI and ``chengxin serve`` do it here. Every transition is logged with
record id, event, actor, from and to. No secret is ever logged: settings keep passwords in
``SecretStr``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import orjson

from workflow import settings
from workflow.log import ROOT


def _json_line(event: object, **options: Any) -> str:
    """One JSON log line, UTF-8 text as it is (orjson: a sixth of the stdlib encoder's time per line).
    structlog passes ``default``, its fallback for values JSON cannot hold."""
    return orjson.dumps(event, **options).decode()


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is written (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class _Formatter(logging.Formatter):
    """structlog's formatter, built on the first line written (a command that writes no log line
    does not load structlog): readable lines on a terminal, JSON lines otherwise."""

    def __init__(self, *, readable: bool) -> None:
        super().__init__()
        self._readable = readable
        self._inner: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        if self._inner is None:
            self._inner = _structlog_formatter(readable=self._readable)
        return self._inner.format(record)


def _structlog_formatter(*, readable: bool) -> logging.Formatter:
    import structlog

    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if readable
        else structlog.processors.JSONRenderer(serializer=_json_line)
    )
    return structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
        foreign_pre_chain=[
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
    )


def configure(*, verbose: bool = False, quiet: bool = False, stream: TextIO | None = None) -> None:
    """Send the engine's log lines to stderr (or ``stream``): INFO for scripts and services,
    WARNING on a terminal or when quiet. ``CHENGXIN_LOG_LEVEL`` overrides both; ``verbose`` wins
    over ``quiet``."""
    tty = stream is None and sys.stderr.isatty()
    default = "INFO" if verbose or not (tty or quiet) else "WARNING"
    wanted = (settings.load().log_level or default).strip().upper()
    level = wanted if wanted in logging.getLevelNamesMapping() else "INFO"
    handler: logging.Handler = _Stderr(sys.stderr) if stream is None else logging.StreamHandler(stream)
    handler.setFormatter(_Formatter(readable=tty))
    handler.set_name("chengxin-cli")
    root = logging.getLogger(ROOT)
    for old in [h for h in root.handlers if h.get_name() == "chengxin-cli"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
