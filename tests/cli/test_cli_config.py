"""Settings come from one object: the environment over an optional ``.env`` file in the current
folder; ``config show`` lists each with its source and masks secrets; mail and the engine read
them from there (a ``.env`` alone configures a command)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
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


ENV_FILES = [
    "",
    "CHENGXIN_MAIL_DIR=from-file\nCHENGXIN_OFFICE_NAME='河西区 发展改革委'\n",
    '# a comment\nexport CHENGXIN_ACTOR="li lei"  # trailing\nchengxin_role=verifier\nCHENGXIN_UNIT=\n'
    "CHENGXIN_SMTP_HOST\nCHENGXIN_NOT_A_SETTING=x\nOTHER=y\nCHENGXIN_SMTP_PASSWORD=geheim\n",
    "CHENGXIN_MAIL_FROM=a@b.cn\nCHENGXIN_MAIL_DIR=${HOME}/mail\nCHENGXIN_LOG_LEVEL=debug\n",
]
ENVIRONMENTS = [
    {},
    {"CHENGXIN_MAIL_DIR": "from-env", "CHENGXIN_DATABASE_URL": "postgresql://u:pw@db/x"},
    {"chengxin_actor": "wang", "CHENGXIN_UNIT": "", "Chengxin_Smtp_Port": "2525", "CHENGXIN_OTHER": "z"},
    {"CHENGXIN_SMTP_PASSWORD": "from-env", "CHENGXIN_LOG_LEVEL": "warning"},
]


@pytest.mark.parametrize("env_file", ENV_FILES)
@pytest.mark.parametrize("environ", ENVIRONMENTS)
def test_settings_read_by_hand_agree_with_pydantic_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env_file: str, environ: dict[str, str]
) -> None:
    """A command reads its settings without pydantic-settings (``settings.read``): the same
    values as the pydantic-settings model, from the environment over ``.env``, names in any case."""
    for name in list(os.environ):
        if name.upper().startswith("CHENGXIN_"):
            monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    if env_file:
        (tmp_path / ".env").write_text(env_file, encoding="utf-8")
    by_hand, reference = settings.read(), settings.model()
    assert set(type(reference).model_fields) == set(settings.FIELDS)
    for name in settings.FIELDS:
        expected = getattr(reference, name)
        if isinstance(expected, SecretStr):
            expected = expected.get_secret_value()
        assert by_hand.value(name) == expected, name
    assert isinstance(by_hand.smtp_password, SecretStr | None)
    assert "geheim" not in repr(by_hand) and "from-env" not in repr(by_hand.smtp_password)
    assert settings.load() == by_hand  # what every caller gets
