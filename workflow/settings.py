"""Every ``CHENGXIN_*`` setting in one place: read from the environment and, where present, a
``.env`` file in the current folder (the environment wins), listed by ``chengxin config show``
with secrets masked.

The engine, the mail dispatcher, the logs and the command line read their settings here instead
of ``os.environ``; ``storage`` and ``notifications`` never import ``workflow``, so they get the
values passed in (a URL, a mapping of mail variables). Values are checked where they are used
(``MailSettings``, ``SmtpSettings``, the history key), so that an invalid one is named as it was
before; here they are plain text. Nothing in this module reads a file other than ``.env``.

They are read by hand (``read``), by the rules of the pydantic-settings model ``model`` builds,
so that a command does not pay a tenth of a second to import pydantic-settings; a test checks
that both read the same from the same environment and ``.env`` file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pydantic loads only when a secret is set (≈ 0.05 s a command without one does not pay)
    from pydantic import SecretStr

PREFIX = "CHENGXIN_"
ENV_FILE = Path(".env")
EXPORTED: set[str] = set()  # variables ``export_env_file`` took from ``.env`` into the environment


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its variable, what it is for, whether it is a secret."""

    name: str
    help: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "数据库 database URL (default sqlite:///chengxin.db)"),
    Setting("DEFINITIONS", "额外的流程定义目录 extra definition folders (joined with the path separator)"),
    Setting("ACTOR", "操作人 who acts on the command line"),
    Setting("ROLE", "角色 the actor's role"),
    Setting("UNIT", "单位 the actor's unit"),
    Setting("HISTORY_KEY_FILE", "历史密钥文件 the history key's file (HMAC of every row)"),
    Setting("CHECKPOINT_DIR", "检查点目录 folder of scheduled checkpoints"),
    Setting(
        "CACHE_DIR",
        "缓存目录 cache of the checked bundled definitions (default: the user's cache folder; off)",
    ),
    Setting("LOG_LEVEL", "日志级别 log level of the chengxin loggers"),
    Setting("MAIL_DIR", "邮件目录 folder for .eml files without SMTP (default ./mail)"),
    Setting("MAIL_FROM", "发件地址 sender address"),
    Setting("MAIL_FROM_NAME", "发件人名称 sender name"),
    Setting("OFFICE_NAME", "发文机关 the office named in every mail's footer"),
    Setting("MAIL_MAX_ATTEMPTS", "投递次数上限 delivery attempts before a mail is dead (default 8)"),
    Setting("SMTP_HOST", "SMTP 服务器 server (unset: mail goes to MAIL_DIR)"),
    Setting("SMTP_PORT", "SMTP 端口 port"),
    Setting("SMTP_SECURITY", "starttls | tls | none"),
    Setting("SMTP_USER", "SMTP 用户 user"),
    Setting("SMTP_PASSWORD", "SMTP 密码 password", secret=True),
    Setting("SMTP_TIMEOUT", "SMTP 超时秒数 timeout in seconds"),
    Setting("SMTP_CA_FILE", "CA 证书 the server certificate's CA file"),
)


FIELDS: tuple[str, ...] = (
    "database_url",
    "definitions",
    "actor",
    "role",
    "unit",
    "history_key_file",
    "checkpoint_dir",
    "log_level",
    "cache_dir",
    "mail_dir",
    "mail_from",
    "mail_from_name",
    "office_name",
    "mail_max_attempts",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_user",
    "smtp_password",
    "smtp_timeout",
    "smtp_ca_file",
)
"""Each setting's attribute on ``Settings``: ``CHENGXIN_<NAME>`` lower-cased without the prefix."""

SECRETS = frozenset({"smtp_password"})


class Settings:
    """The settings in force: each ``CHENGXIN_<NAME>`` as the attribute ``<name>`` (text, unset:
    None), from the environment over an optional ``.env`` file; the SMTP password a ``SecretStr``.

    Read by hand (``read``) by the rules of the pydantic-settings model ``model()`` builds:
    the prefix, names in any case, the environment over ``.env``, other variables ignored."""

    __slots__ = FIELDS

    database_url: str | None
    definitions: str | None
    actor: str | None
    role: str | None
    unit: str | None
    history_key_file: str | None
    checkpoint_dir: str | None
    log_level: str | None
    cache_dir: str | None
    mail_dir: str | None
    mail_from: str | None
    mail_from_name: str | None
    office_name: str | None
    mail_max_attempts: str | None
    smtp_host: str | None
    smtp_port: str | None
    smtp_security: str | None
    smtp_user: str | None
    smtp_password: SecretStr | None
    smtp_timeout: str | None
    smtp_ca_file: str | None

    def __init__(self, **values: str | None) -> None:
        for name in FIELDS:
            value = values.get(name)
            if name in SECRETS and isinstance(value, str):
                from pydantic import SecretStr

                object.__setattr__(self, name, SecretStr(value))
            else:
                object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"settings are frozen: {name}")

    def __repr__(self) -> str:
        shown = " ".join(f"{n}={getattr(self, n)!r}" for n in FIELDS if getattr(self, n) is not None)
        return f"Settings({shown})"  # the secret shows as SecretStr('**********')

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Settings):
            return NotImplemented
        return all(self.value(n) == other.value(n) for n in FIELDS)

    __hash__ = None  # type: ignore[assignment]

    def value(self, name: str) -> str | None:
        """The text of setting ``name`` (``smtp_host``), the secret revealed, or None when unset."""
        raw = getattr(self, name)
        return raw if raw is None or isinstance(raw, str) else raw.get_secret_value()

    def path(self, name: str) -> Path | None:
        value = self.value(name)
        return Path(value) if value else None

    def environ(self) -> dict[str, str]:
        """The settings as the ``CHENGXIN_*`` mapping that ``storage`` and ``notifications`` read."""
        found = {}
        for name in FIELDS:
            value = self.value(name)
            if value is not None:
                found[PREFIX + name.upper()] = value
        return found

    def shown(self, environ: Mapping[str, str] | None = None) -> list[tuple[str, str, str, str]]:
        """(variable, value with secrets and passwords in URLs masked, source, help) of each setting."""
        env = os.environ if environ is None else environ
        rows = []
        for setting in SETTINGS:
            name = PREFIX + setting.name
            value = self.value(setting.name.lower())
            if value is None:
                rows.append((name, "", "未设置 unset", setting.help))
                continue
            source = "环境变量 environment" if name in env and name not in EXPORTED else str(ENV_FILE)
            rows.append((name, masked(setting, value), source, setting.help))
        return rows


def _matching(variables: Mapping[str, str | None]) -> dict[str, str | None]:
    """The settings among ``variables`` as pydantic-settings matches them (case-insensitive
    names, a later spelling over an earlier one), by attribute name."""
    found: dict[str, str | None] = {}
    prefix = PREFIX.lower()
    for key, value in variables.items():
        lowered = key.lower()
        if lowered.startswith(prefix) and (name := lowered.removeprefix(prefix)) in FIELDS:
            found[name] = value
    return found


def read(environ: Mapping[str, str] | None = None, env_file: Path = ENV_FILE) -> Settings:
    """The settings from the process environment (or ``environ``) over ``env_file``, read by
    pydantic-settings' rules without it (see ``Settings``)."""
    values: dict[str, str | None] = {}
    if env_file.is_file():
        from dotenv import dotenv_values

        values.update(_matching(dotenv_values(env_file, encoding="utf-8")))
    values.update(_matching(os.environ if environ is None else environ))
    return Settings(**values)


def model(env_file: Path = ENV_FILE) -> Any:
    """The same settings read by pydantic-settings, the reference ``read`` follows (a frozen
    ``BaseSettings`` with the attributes of ``Settings``; ``tests/cli/test_cli_config.py``)."""
    from pydantic import SecretStr  # noqa: F401 - the annotation below resolves to it (pydantic reads this frame)
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class PydanticSettings(BaseSettings):
        model_config = SettingsConfigDict(
            env_prefix=PREFIX, env_file=env_file, env_file_encoding="utf-8", extra="ignore", frozen=True
        )

        database_url: str | None = None
        definitions: str | None = None
        actor: str | None = None
        role: str | None = None
        unit: str | None = None
        history_key_file: str | None = None
        checkpoint_dir: str | None = None
        log_level: str | None = None
        cache_dir: str | None = None
        mail_dir: str | None = None
        mail_from: str | None = None
        mail_from_name: str | None = None
        office_name: str | None = None
        mail_max_attempts: str | None = None
        smtp_host: str | None = None
        smtp_port: str | None = None
        smtp_security: str | None = None
        smtp_user: str | None = None
        smtp_password: SecretStr | None = None
        smtp_timeout: str | None = None
        smtp_ca_file: str | None = None

    return PydanticSettings()


def masked(setting: Setting, value: str) -> str:
    """A secret as ``******``; a URL's password as ``***``."""
    if setting.secret:
        return "******" if value else ""
    if "://" in value and "@" in value.split("://", 1)[1]:
        scheme, rest = value.split("://", 1)
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else value
    return value


def read_env_file(path: Path) -> dict[str, str]:
    """The ``CHENGXIN_*`` variables of a ``.env`` file (``python-dotenv``'s syntax), if it exists."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if k.startswith(PREFIX) and v is not None}


_LOADED: dict[tuple[object, ...], Settings] = {}


def _sources() -> tuple[object, ...]:
    """What the settings are read from: the ``CHENGXIN_*`` variables (any case, as pydantic-settings
    matches them), the current folder and its ``.env`` file's size and time. The same sources give
    the same settings, so a command reads them once, not once per caller."""
    try:
        stat = ENV_FILE.stat()
        env_file: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        env_file = None
    variables = tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(PREFIX)))
    try:
        folder = os.getcwd()
    except OSError:  # the current folder was deleted
        folder = ""
    return (folder, env_file, variables)


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings: ``environ`` alone when given (tests, embedding services), else the process
    environment over ``.env`` in the current folder."""
    if environ is None:
        key = _sources()
        found = _LOADED.get(key)
        if found is None:
            found = _LOADED[key] = read()  # frozen: one object serves every caller
        return found
    given = {k.removeprefix(PREFIX).lower(): v for k, v in environ.items() if k.startswith(PREFIX)}
    return Settings(**{k: v for k, v in given.items() if k in FIELDS})  # exactly what was given


def export_env_file(path: Path = ENV_FILE) -> None:
    """Put the ``.env`` file's settings into the environment where it has none, so that every
    option that reads one (``--db``, ``--actor`` …) sees them too."""
    for name, value in read_env_file(path).items():
        if name not in os.environ:
            os.environ[name] = value
            EXPORTED.add(name)
