"""Settings come from one object: the environment over an optional ``.env`` file in the current
folder; ``config show`` lists each with its source and masks secrets; mail and the engine read
them from there (a ``.env`` alone configures a command)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.cli import Cli

from workflow import settings


def test_the_environment_wins_over_the_env_file_and_secrets_are_masked(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "CHENGXIN_SMTP_PASSWORD=geheim\nCHENGXIN_OFFICE_NAME=河西区发展改革委\nCHENGXIN_MAIL_DIR=from-file\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHENGXIN_")}
    env |= {"CHENGXIN_MAIL_DIR": "from-env", "CHENGXIN_DATABASE_URL": "postgresql://u:pw@db.example/x"}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    done = subprocess.run(
        [sys.executable, "-m", "workflow.cli", "config", "show", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    import json

    shown = {row["variable"]: row for row in json.loads(done.stdout)}
    assert shown["CHENGXIN_MAIL_DIR"]["value"] == "from-env"
    assert shown["CHENGXIN_MAIL_DIR"]["source"].startswith("环境变量")
    assert shown["CHENGXIN_OFFICE_NAME"] == {
        "variable": "CHENGXIN_OFFICE_NAME", "value": "河西区发展改革委", "source": ".env",
        "help": shown["CHENGXIN_OFFICE_NAME"]["help"],
    }  # fmt: skip
    assert shown["CHENGXIN_SMTP_PASSWORD"]["value"] == "******"
    assert "geheim" not in done.stdout and "pw@" not in done.stdout
    assert shown["CHENGXIN_DATABASE_URL"]["value"] == "postgresql://u:***@db.example/x"
    assert shown["CHENGXIN_SMTP_HOST"]["source"] == "未设置 unset"


def test_an_env_file_configures_a_command(tmp_path: Path, database_url: str) -> None:
    (tmp_path / ".env").write_text(f"CHENGXIN_DATABASE_URL={database_url}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHENGXIN_")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    run = [sys.executable, "-m", "workflow.cli"]
    subprocess.run([*run, "init"], cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120)
    listed = subprocess.run(
        [*run, "record", "list", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert not (tmp_path / "chengxin.db").exists() or database_url.endswith("chengxin.db")


def test_mail_settings_come_from_the_settings_object() -> None:
    from workflow.runtime.dispatch import MailSettings

    mail = MailSettings.from_env({"CHENGXIN_OFFICE_NAME": "某市信用办", "CHENGXIN_MAIL_DIR": "out"})
    assert mail.office == "某市信用办" and str(mail.folder) == "out"
    loaded = settings.load({"CHENGXIN_SMTP_PASSWORD": "geheim", "OTHER": "y"})
    assert loaded.environ() == {"CHENGXIN_SMTP_PASSWORD": "geheim"}
    assert "geheim" not in repr(loaded)


def test_config_show_lists_every_setting(tmp_path: Path) -> None:
    shown = Cli()("config", "show").ok().stdout
    for setting in settings.SETTINGS:
        assert f"CHENGXIN_{setting.name}" in shown
