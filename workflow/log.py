"""The library's logging: structlog bound to the standard library's ``chengxin`` loggers.

The engine never prints and never configures output: its events go to ``logging`` loggers named
``chengxin.*``, which carry a ``NullHandler``, so an embedding service sees them only where it
configures logging itself (``CHENGXIN_LOG_LEVEL`` sets their level there too). The CLI and
``chengxin serve`` configure a handler (``workflow.cli.logs``). An event's fields travel as a
structlog event dict; ``structlog.stdlib.ProcessorFormatter`` renders them.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import structlog

ROOT = "chengxin"

_root = logging.getLogger(ROOT)
_root.addHandler(logging.NullHandler())
_level = os.environ.get("CHENGXIN_LOG_LEVEL", "").strip().upper()  # not workflow.settings: this loads first
if _level in logging.getLevelNamesMapping():
    _root.setLevel(_level)


def _wrap(name: str) -> structlog.stdlib.BoundLogger:
    import structlog

    logger: structlog.stdlib.BoundLogger = structlog.wrap_logger(
        logging.getLogger(name),
        processors=[
            structlog.stdlib.filter_by_level,  # first: an event below the level costs next to nothing
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return logger


class _Deferred:
    """A logger that imports structlog when it first logs: a command that logs nothing (every
    read) does not pay for loading it."""

    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: structlog.stdlib.BoundLogger | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._logger is None:
            self._logger = _wrap(self._name)
        return getattr(self._logger, attribute)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger over the standard library's logger ``name`` (under ``chengxin``),
    built on its first call."""
    return cast("structlog.stdlib.BoundLogger", _Deferred(name))


class InfoLine:
    """One INFO event of a logger, written as structlog's logger above would write it, without
    its per-call machinery: the write path logs every transition, and structlog's bound logger
    and the standard library's caller lookup cost more than the line itself.

    The record it hands to the ``logging`` handlers is the one ``structlog.stdlib`` makes — the
    event dict as the message (fields in the order given, then ``event``, ``logger``, ``level``
    and the UTC ISO ``timestamp``) and structlog's markers for ``ProcessorFormatter`` — so every
    handler renders it as before; the caller it names is the function that logs.
    """

    __slots__ = ("_logger", "_name", "_stamp")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger = logging.getLogger(name)
        self._stamp: Any = None

    def __call__(self, event: str, fields: dict[str, Any], caller: tuple[str, int, str]) -> None:
        logger = self._logger
        if not logger.isEnabledFor(logging.INFO):
            return
        stamp = self._stamp
        if stamp is None:
            import structlog

            stamp = self._stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
        fields["event"] = event
        fields["logger"] = self._name
        fields["level"] = "info"
        stamp(logger, "info", fields)
        path, line, function = caller
        record = logger.makeRecord(
            self._name,
            logging.INFO,
            path,
            line,
            fields,
            (),
            None,
            function,
            {"_logger": logger, "_name": "info"},
        )
        logger.handle(record)
