"""``chengxin config``: the settings in force, where each comes from, secrets masked."""

from __future__ import annotations

import typer
from rich.text import Text

from workflow.cli.common import FormatOption, JsonOption, out, output_format, user_errors
from workflow.cli.output import add_row, new_table, print_json, write_csv

config_app = typer.Typer(help="配置 settings: CHENGXIN_* from the environment and .env", no_args_is_help=True)


@config_app.command("show")
def config_show(as_json: JsonOption = False, fmt: FormatOption = None) -> None:
    """列出全部设置及其来源，密码已隐去 (every setting, its source; secrets masked)."""
    from workflow import settings

    chosen = output_format(fmt, as_json)
    with user_errors():
        rows = settings.load().shown()
    headers = ["变量 variable", "值 value", "来源 source", "说明 what"]
    if chosen == "json":
        print_json([dict(zip(("variable", "value", "source", "help"), row, strict=True)) for row in rows])
        return
    if chosen == "csv":
        write_csv(headers, rows)
        return
    table = new_table(*headers)
    for row in rows:
        add_row(table, *row)
    out.print(table)
    out.print(Text(f"读取 read from: 环境变量 the environment, then {settings.ENV_FILE} in this folder"))
