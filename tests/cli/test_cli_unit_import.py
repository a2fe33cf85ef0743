"""``unit import`` reads what Excel and WPS write on Chinese Windows (GBK/GB18030) as well as
UTF-8, and names the row of a bad address; long work shows progress only to a person."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import Cli, one_line_error

HEADER = "code,name,superior,emails,contact\n"
ROWS = "hexi-zjw,河西区住房和建设委员会,hexi-gov,bgs@zjw.example.gov.cn,张三\nhexi-gov,河西区人民政府,,ban@gov.example.cn,\n"


@pytest.fixture
def cli(database_url: str) -> Cli:
    cli = Cli({"CHENGXIN_DATABASE_URL": database_url})
    cli("init").ok()
    return cli


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_unit_import_reads_chinese_windows_and_utf8_csv(cli: Cli, tmp_path: Path, encoding: str) -> None:
    file = tmp_path / "units.csv"
    file.write_bytes((HEADER + ROWS).encode(encoding))
    cli("unit", "import", str(file)).ok()
    units = {u["code"]: u for u in cli("unit", "list", "--json").json()["units"]}
    assert units["hexi-zjw"]["name"] == "河西区住房和建设委员会"
    assert units["hexi-zjw"]["contact"] == "张三"


def test_a_bad_address_names_its_row_and_nothing_is_imported(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "units.csv"
    file.write_text(HEADER + ROWS + "hexi-jw,河西区教育局,,not-an-address,\n", encoding="utf-8")
    line = one_line_error(
        cli("unit", "import", str(file)), "units.csv:4", "row 4", "hexi-jw", "not-an-address"
    )
    assert line
    assert cli("unit", "list", "--json").json()["total"] == 0


def test_a_file_in_no_chinese_encoding_is_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "units.csv"
    file.write_bytes(HEADER.encode() + b"\x81\x30\xff\xff,x,,,\n")
    one_line_error(cli("unit", "import", str(file)), "GB18030")


def test_progress_shows_on_a_terminal_and_never_in_a_pipe(database_url: str, tmp_path: Path) -> None:
    file = tmp_path / "units.csv"
    file.write_text(HEADER + ROWS, encoding="utf-8")
    env = {**os.environ, "CHENGXIN_DATABASE_URL": database_url, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "workflow.cli"]
    subprocess.run([*command, "init"], env=env, check=True, capture_output=True)
    piped = subprocess.run(
        [*command, "unit", "import", str(file)], env=env, capture_output=True, text=True, check=True
    )
    assert "导入单位" not in piped.stderr
    main, secondary = pty.openpty()
    done = subprocess.run(
        [*command, "unit", "import", str(file)], env=env, stdout=subprocess.PIPE, stderr=secondary, check=True
    )
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    assert "已导入" in done.stdout.decode()
    assert "导入单位" in seen.decode("utf-8", "replace")
