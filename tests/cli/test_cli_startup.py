"""What ``chengxin --help`` loads: the command line starts without the engine, the store,
SQLAlchemy, Alembic or Jinja2; a command group's module loads only when that group runs; every
lazily registered group's listed help is the group's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import Cli

from workflow.cli.lazy import LAZY, load

HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "jinja2",
    "storage",
    "workflow.engine.facade",
    "workflow.cli.record",
)


def modules_after(*args: str) -> list[str]:
    """The modules loaded once ``chengxin ARGS`` has run, in a fresh interpreter."""
    script = (
        "import sys, json\n"
        "from workflow.cli.app import app\n"
        "try:\n"
        f"    app({list(args)!r}, prog_name='chengxin')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    return list(json.loads(done.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [("--help",), ("-h",), ("--version",)])
def test_help_and_version_load_no_engine_store_or_templates(args: tuple[str, ...]) -> None:
    loaded = modules_after(*args)
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY]
    assert heavy == []


def test_a_group_loads_its_module_only_when_it_runs() -> None:
    loaded = modules_after("clock", "--help")
    assert "workflow.cli.clock" in loaded
    assert "workflow.cli.record" not in loaded
    assert "workflow.cli.audit" not in loaded


@pytest.mark.parametrize("name", sorted(LAZY))
def test_listed_help_is_the_groups_own(name: str) -> None:
    command = load(name)
    listed = LAZY[name].help
    own = (command.help or "").strip().splitlines()[0].rstrip(".")
    assert listed.rstrip(".") == own


def test_help_lists_every_group_in_chinese_and_english() -> None:
    shown = Cli()("--help").ok().stdout
    for name in LAZY:
        assert name in shown
    assert "失信记录 records" in shown
    assert "-h" in shown and "--version" in shown


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    assert Cli()("--version").ok().stdout.strip() == f"chengxin {version('chengxin')}"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("unit", "add"), "Missing argument 'CODE'"),
        (("record", "list", "--limit", "many"), "'--limit'"),
        (("record", "lisst"), "No such command 'lisst'"),
        (("recrod",), "Did you mean 'record'"),
        (("record", "list", "--no-such-option"), "--no-such-option"),
    ],
)
def test_usage_errors_are_one_line_with_the_usage_exit_code(args: tuple[str, ...], needle: str) -> None:
    outcome = Cli()(*args)
    assert outcome.code == 2
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("错误 error: 用法 usage: ")
    assert needle.lower() in lines[0].lower()
    assert "╭" not in outcome.stderr and "Usage:" not in outcome.stderr


def test_shell_completion_lists_groups_without_loading_them() -> None:
    env = {"_CHENGXIN_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "chengxin re"}
    script = (
        "import sys\nfrom workflow.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED' if 'sqlalchemy' in sys.modules else 'LIGHT', file=sys.stderr)\n"
    )
    import os

    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "record" in done.stdout
    assert done.stderr.strip().endswith("LIGHT")


def test_a_read_on_sqlite_loads_no_migrations_templates_or_postgres_driver(tmp_path: Path) -> None:
    """``record list`` opens the database and the definitions, and nothing it does not use."""
    import os

    url = f"sqlite:///{tmp_path}/read.db"
    env = {**os.environ, "CHENGXIN_DATABASE_URL": url}
    subprocess.run(
        [sys.executable, "-m", "workflow.cli", "init"], env=env, check=True, capture_output=True, timeout=120
    )
    script = (
        "import sys, json\n"
        "from workflow.cli.app import app\n"
        "try:\n"
        "    app(['record', 'list', '--json'], prog_name='chengxin')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert "storage.lite" in loaded  # it did read (on the driver alone: storage.store is SQLAlchemy's)
    assert not {"alembic", "jinja2", "psycopg", "icalendar", "aiosmtplib", "apscheduler"} & loaded


READ_MUST_NOT_LOAD = {
    "alembic",  # migrations: only ``init`` and upgrades
    "sqlmodel",  # the ORM classes describe the schema for Alembic; the store runs on Core tables
    "sqlalchemy.orm",
    "storage.tables",
    "structlog",  # loads with the first log line; a read logs none
    "jinja2",  # mail templates
    "icalendar",
    "psycopg",  # a SQLite database needs no PostgreSQL driver
    "aiosmtplib",
    "apscheduler",
    "definitions.reports",  # report rules: only for reports
    "sqlalchemy",  # a SQLite read runs on the sqlite3 module (storage.lite)
    "storage.store",
    "storage.connections",
    "pydantic_settings",  # the settings are read by hand by its rules (workflow.settings.read)
    "workflow.engine.facade",  # the engine's commands: a read needs none of them
    "workflow.core.decide",
    "pydantic",  # Typer's adapters (workflow.cli.coercion), the definition schema, settings' SecretStr
    "pydantic_core",
    "typer._adapters",
    "yaml",  # definitions and holiday tables from the cache; a payload file only for writes
    "definitions.loader",  # a cached definition is built from its checked values (definitions.codec)
    "definitions.schema",
    "definitions.effects",
    "definitions.holidayfiles",
}


def _modules_of(args: list[str], env: dict[str, str]) -> set[str]:
    script = (
        "import sys, json\n"
        "from workflow.cli.app import app\n"
        "try:\n"
        f"    app({args!r}, prog_name='chengxin')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_record_show_and_list_build_only_what_a_read_needs(tmp_path: Path) -> None:
    """``record show ID`` and ``record list`` on SQLite read on the sqlite3 driver and the cached
    definitions: no SQLAlchemy, no ORM, no migrations, no pydantic-settings, no engine commands,
    no logging library, no templates; the second run takes the definitions from the cache and
    builds only the one the record runs on. A filtered list, or one by due date, goes through
    the engine's store as before."""
    import os

    env = {
        **os.environ,
        "CHENGXIN_DATABASE_URL": f"sqlite:///{tmp_path}/read.db",
        "CHENGXIN_CACHE_DIR": str(tmp_path / "cache"),
    }
    subprocess.run(
        [sys.executable, "-m", "workflow.cli", "init"], env=env, check=True, capture_output=True, timeout=120
    )
    submitted = subprocess.run(
        [sys.executable, "-m", "workflow.cli", "record", "submit", "-d", "national", "--actor", "li.lei",
         "--role", "recorder", "--unit", "court-3", "-s", "subject_kind=department",
         "-s", "subject_name=某区住房和建设委员会", "-s", "subject_code=91110000600037341L",
         "-s", "responsible_unit=hexi-zjw", "-s", "superior_unit=hexi-gov", "-s", "finding_unit=court-3",
         "-s", "source_type=judgment", "-s", "document_number=（2026）津0103民初1234号",
         "-s", "finding_date=2026-05-08", "-s", "facts=拖欠工程款", "-s", "domain=procurement",
         "-s", "severity=一般", "-q"],
        env=env, check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    record_id = submitted.stdout.strip()
    assert list((tmp_path / "cache").glob("definitions-*.json"))  # the write filled the cache
    reads = (
        ["record", "show", record_id],
        ["record", "list"],
        ["record", "show", record_id, "--json"],
        ["record", "list", "--json", "--sort", "-updated", "--limit", "5"],
        ["record", "list", "--format", "csv"],
    )
    for args in reads:
        loaded = _modules_of(args, env)
        assert "storage.lite" in loaded  # it did read
        assert sorted(READ_MUST_NOT_LOAD & loaded) == [], args
    filtered = _modules_of(["record", "list", "--state", "submitted", "--json"], env)
    assert "storage.store" in filtered  # the engine, as before
