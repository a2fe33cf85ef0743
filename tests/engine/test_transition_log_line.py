"""The transition line the write path logs (``workflow.log.InfoLine``) is the line structlog's
logger writes for the same fields: the JSON line of the CLI and ``chengxin serve``, and the
message a host's own ``logging`` format shows."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from workflow.cli import logs
from workflow.log import ROOT, InfoLine, get_logger

FIELDS = {
    "record_id": "SX20260511-000001",
    "trigger": "publish",
    "actor": "wang.fang",
    "role": "verifier",
    "unit": "津市信用办",
    "from_state": "recorded",
    "to_state": None,
    "changes": ["publication:pending_decision->published"],
    "version": 5,
}
STAMP = re.compile(r'"timestamp":"[^"]+"')


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    logger = logging.getLogger(ROOT)
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


def _both(stream: io.StringIO) -> tuple[str, str]:
    get_logger("chengxin.engine").info("transition", **FIELDS)
    InfoLine("chengxin.engine")("transition", dict(FIELDS), (__file__, 1, "test"))
    first, second = stream.getvalue().splitlines()
    return first, second


@pytest.mark.usefixtures("root")
def test_the_json_line_is_structlogs_byte_for_byte_but_the_time() -> None:
    stream = io.StringIO()
    logs.configure(verbose=True, stream=stream)
    first, second = _both(stream)
    assert STAMP.sub("", first) == STAMP.sub("", second)
    logged = json.loads(second)
    assert logged["event"] == "transition" and logged["level"] == "info"
    assert logged["timestamp"].endswith("Z") and logged["logger"] == "chengxin.engine"
    assert list(logged)[: len(FIELDS)] == list(FIELDS)


def test_a_hosts_own_format_shows_the_same_message(root: logging.Logger) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    first, second = _both(stream)
    stamp = re.compile(r"'timestamp': '[^']+'")
    assert stamp.sub("", first) == stamp.sub("", second)
    assert second.startswith("chengxin.engine INFO {") and "'event': 'transition'" in second


def test_below_the_level_nothing_is_written(root: logging.Logger) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    InfoLine("chengxin.engine")("transition", dict(FIELDS), (__file__, 1, "test"))
    assert stream.getvalue() == ""
