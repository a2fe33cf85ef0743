"""The public API an embedding service uses: ``from workflow import …`` is enough, the library never
prints (its logs go to the standard library's ``chengxin`` loggers, at the level
``CHENGXIN_LOG_LEVEL`` sets), every error is a ``WorkflowError`` with the cause chained, and
``fire`` returns the view ``get`` gives afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.harness import Harness
from support.smtp import SmtpServer

import workflow
from workflow import (
    Actor,
    DatabaseUnavailable,
    Engine,
    RecordNotFound,
    SchemaOutdated,
    StorageFailure,
    WorkflowError,
)
from workflow.testing import ORGANISATION

LIFECYCLE = textwrap.dedent(
    """
    import datetime as dt, logging, sys
    from zoneinfo import ZoneInfo
    {host_logging}
    from workflow import Actor, Dispatcher, Engine, MailSettings, ManualClock

    start = dt.datetime(2026, 5, 11, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    url = sys.argv[1]
    Engine.init(url, simulated_start=start)[0].close()
    clock = ManualClock(start)
    with Engine.open(url, clock=clock) as engine:
        engine.units.save([{{"code": "hexi-zjw", "name": "河西区住房和建设委员会", "emails": ["bgs@zjw.example.gov.cn"]}}])
        recorder = Actor(id="li.lei", role="recorder", unit="court-3")
        verifier = Actor(id="wang.fang", role="verifier", unit="credit-office")
        fields = {fields!r}
        view = engine.register("national", fields, actor=recorder, submit=True)
        engine.fire(view.id, "accept", actor=verifier)
        engine.fire(view.id, "confirm", actor=verifier, comment="核查属实")
        clock.advance(dt.timedelta(days=40))
        engine.sweep()
        import os, pathlib
        Dispatcher(engine, MailSettings.from_env(dict(os.environ), folder=pathlib.Path(sys.argv[2]))).run()
        try:
            engine.fire(view.id, "no_such_event", actor=verifier)
        except Exception:
            pass
    """
)


def _embed(tmp_path: Path, host_logging: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    script = LIFECYCLE.format(host_logging=host_logging, fields=ORGANISATION)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHENGXIN_")}
    return subprocess.run(
        [sys.executable, "-c", script, f"sqlite:///{tmp_path}/embedded.db", str(tmp_path / "mail")],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_an_embedded_engine_runs_a_lifecycle_and_prints_nothing(tmp_path: Path) -> None:
    done = _embed(tmp_path)
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")
    assert list((tmp_path / "mail").glob("*.eml"))  # it did run: the mail went out


def test_an_embedded_engine_delivering_over_smtp_prints_nothing(tmp_path: Path) -> None:
    server = SmtpServer()
    server.start()
    try:
        done = _embed(tmp_path, **server.env())
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")
    assert server.handler.messages()  # it did deliver


def test_the_host_sees_the_engine_log_where_it_configures_logging_at_chengxin_log_level(
    tmp_path: Path,
) -> None:
    host = 'logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(name)s %(message)s")'
    quiet = _embed(tmp_path / "a", host_logging=host)
    assert quiet.returncode == 0, quiet.stderr
    assert "transition" not in quiet.stdout  # INFO is below the host's WARNING
    loud = _embed(tmp_path / "b", host_logging=host, CHENGXIN_LOG_LEVEL="info")
    assert loud.returncode == 0, loud.stderr
    lines = [line for line in loud.stdout.splitlines() if line.startswith("chengxin.engine ")]
    assert len(lines) >= 5 and all("'event': 'transition'" in line for line in lines)
    assert loud.stderr == ""


def test_the_public_api_names_everything_an_embedding_service_needs() -> None:
    assert {
        "Engine",
        "Actor",
        "WorkflowError",
        "RecordView",
        "ManualClock",
        "Dispatcher",
        "MailSettings",
    } <= set(workflow.__all__)
    for name in workflow.__all__:
        assert getattr(workflow, name) is not None
    errors = [getattr(workflow, n) for n in workflow.__all__ if n.endswith(("Error", "Invalid", "Failure"))]
    assert all(issubclass(e, WorkflowError) for e in errors)
    assert (Path(workflow.__file__).parent / "py.typed").is_file()
    with pytest.raises(AttributeError):
        _ = workflow.NoSuchThing  # type: ignore[attr-defined]


def test_database_errors_reach_a_caller_as_workflow_errors_with_their_cause(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable) as missing_folder:
        Engine.open(f"sqlite:///{tmp_path}/no/such/folder/x.db")
    assert isinstance(missing_folder.value, StorageFailure) and missing_folder.value.__cause__ is not None
    with pytest.raises(DatabaseUnavailable, match="does not exist") as missing_file:
        Engine.open(f"sqlite:///{tmp_path}/mistyped.db")
    assert "chengxin init" in str(missing_file.value) and missing_file.value.__cause__ is not None
    assert not (tmp_path / "mistyped.db").exists()  # only 'chengxin init' creates a database
    (tmp_path / "empty.db").touch()
    with pytest.raises(SchemaOutdated) as empty:
        Engine.open(f"sqlite:///{tmp_path}/empty.db")
    assert "chengxin init" in str(empty.value) and empty.value.__cause__ is not None


def test_fire_returns_the_view_get_gives_afterwards(h: Harness) -> None:
    rid = h.recorded()
    h.later(days=2)
    fired = h.fire(rid, "submit_explanation", h.subject, explanation="因资金紧张未按期支付。")
    assert fired == h.engine.get(rid)
    assert any(d.closed_at is not None for d in fired.deadlines)  # closed deadlines are in both
    with pytest.raises(RecordNotFound):
        h.engine.get("SX20260101-NOSUCH")
    assert isinstance(Actor(id="a", role="b", unit="c"), Actor)
