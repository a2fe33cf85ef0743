"""The history key: a secret kept outside the database that seals every history row's hash.

Anyone who can write to the database can rewrite a history row and recompute the SHA-256 chain
after it. With a history key (the file ``CHENGXIN_HISTORY_KEY_FILE`` names, never stored in the
database) the engine stores beside each new row an HMAC of its hash, which cannot be made
without the key. The database remembers which key seals its rows, and since when, in a *mark*
(``chengxin_meta``, itself sealed): a row written after that without a MAC is an altered row,
not an old one, and a process without the key — or with another one — refuses to write.

Nothing here touches the database; ``workflow.engine.opening`` reads and writes the mark.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path

from workflow import settings
from workflow.core.history import row_mac
from workflow.errors import HistoryKeyError, WorkflowError

ENV_KEY_FILE = "CHENGXIN_HISTORY_KEY_FILE"
MARK = "history_key"  # the chengxin_meta key of the mark
MIN_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class HistoryKey:
    """A history key as read from its file."""

    secret: bytes = field(repr=False)
    source: str

    @property
    def id(self) -> str:
        """A public name of the key (it reveals nothing of the secret): which key sealed the rows."""
        return hashlib.sha256(b"chengxin history key id\0" + self.secret).hexdigest()[:16]

    def seal(self, digest: str) -> str:
        """The MAC of a history row's hash."""
        return row_mac(self.secret, digest)

    def holds(self, digest: str, mac: str) -> bool:
        return hmac.compare_digest(self.seal(digest), mac)

    def mark(self, since: dt.datetime) -> str:
        """The text of the database's mark: this key seals every row written from ``since`` on."""
        at = since.astimezone(dt.UTC).isoformat()
        return json.dumps({"key": self.id, "since": at, "mac": self.seal(f"mark {self.id} {at}")})


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyMark:
    """The mark a database keeps of the key that seals its rows (see the module docstring)."""

    key_id: str
    since: dt.datetime
    mac: str

    @classmethod
    def parse(cls, text: str | None) -> KeyMark | None:
        """The mark stored as ``text``; None when there is none or it is not one."""
        if not text:
            return None
        try:
            body = json.loads(text)
            since = dt.datetime.fromisoformat(body["since"])
            mark = cls(key_id=str(body["key"]), since=since, mac=str(body["mac"]))
        except (ValueError, TypeError, KeyError):
            return None
        return mark if since.tzinfo is not None else None

    def sealed_by(self, key: HistoryKey) -> bool:
        """Whether ``key`` made this mark (and so no one moved its date or swapped its key)."""
        at = self.since.astimezone(dt.UTC).isoformat()
        return self.key_id == key.id and key.holds(f"mark {self.key_id} {at}", self.mac)


def read_key(path: Path) -> HistoryKey:
    """The key in ``path``: its content without surrounding whitespace, at least 32 bytes
    (``openssl rand -hex 32 > history.key`` makes one).

    Raises:
        HistoryKeyError: the file cannot be read or holds too short a key.
    """
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise HistoryKeyError(
            f"无法读取历史密钥文件 {path} (cannot read the history key file): {exc.strerror or exc}"
        ) from exc
    if len(secret) < MIN_KEY_BYTES:
        raise HistoryKeyError(
            f"历史密钥文件 {path} 太短 (the history key file holds {len(secret)} bytes; at least "
            f"{MIN_KEY_BYTES} are needed: openssl rand -hex 32 > {path.name})"
        )
    return HistoryKey(secret=secret, source=str(path))


def configured_key(path: Path | None = None) -> HistoryKey | None:
    """The key in ``path``, else in the file ``CHENGXIN_HISTORY_KEY_FILE`` names, else None.

    Raises:
        HistoryKeyError: the file cannot be read or holds too short a key.
    """
    chosen = path or settings.load().path("history_key_file")
    return read_key(chosen) if chosen is not None else None


def refuse_unkeyed(_digest: str) -> str:
    """The sealer of a process without the key on a database whose rows are sealed: it refuses.

    Raises:
        HistoryKeyError: always.
    """
    raise HistoryKeyError(
        "该数据库的历史记录以密钥签名，未配置密钥不能写入 (this database's history rows are sealed with a "
        f"history key; set {ENV_KEY_FILE} to the key file before writing)"
    )


def refuse_audit(_digest: str) -> str:
    """The sealer of an engine opened for audit: it writes nothing.

    Raises:
        WorkflowError: always.
    """
    raise WorkflowError("审计模式只读 (an engine opened for audit writes nothing)")
