"""Checkpoints: what a chain cannot reveal, a file kept outside the database can.

A chain cannot reveal a case removed whole, or a tail cut off together with its projection: a
checkpoint (``write_checkpoint``) records every chain's head and one digest over them all, and
``verify_checkpoint`` reports every case missing or shortened since. ``take_checkpoint`` is what
``serve`` does on a schedule into a folder: it first compares the database with the newest
checkpoint there (a record removed or cut since is an error, and no new checkpoint covers it up),
then writes the next one and prunes the old ones (``prune``). With the history key a checkpoint
carries a MAC of its digest, so one edited together with its digest is refused too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflow.core.fold import Problem
from workflow.engine.keys import HistoryKey
from workflow.errors import CheckpointError

if TYPE_CHECKING:
    from workflow.engine.facade import Engine

CHECKPOINT_FORMAT = "chengxin-checkpoint/1"
PREFIX = "chengxin-checkpoint-"
NAMED = re.compile(r"chengxin-checkpoint-(\d{8}T\d{12})Z\.json\Z")  # …-20261208T100000000000Z.json
KEEP = 48  # newest checkpoints a folder keeps
KEEP_DAYS = 90  # and the newest of each of the last days


def _digest(heads: Iterable[tuple[str, int, str]]) -> str:
    digest = hashlib.sha256()
    for record_id, seq, head in heads:
        digest.update(f"{record_id} {seq} {head}\n".encode())
    return digest.hexdigest()


def _seal(key: HistoryKey, digest: str) -> str:
    return key.seal(f"checkpoint {digest}")


def write_checkpoint(
    heads: Iterator[tuple[str, int, str]],
    path: Path,
    *,
    at: dt.datetime,
    database: str,
    key: HistoryKey | None = None,
) -> tuple[int, str]:
    """Write every chain head and one digest over them all (sealed with ``key`` if given);
    returns (records, digest). The file appears whole or not at all.

    Raises:
        CheckpointError: the folder does not exist, or the file cannot be written.
    """
    folder = path.parent
    if not folder.is_dir():
        raise CheckpointError(
            f"检查点目录 {folder} 不存在 (the folder {folder} does not exist; create it first, or choose "
            "another file)"
        )
    rows = list(heads)
    digest = _digest(rows)
    body: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "created_at": at.isoformat(),
        "database": database,
        "records": len(rows),
        "digest": digest,
        "heads": [[r, s, h] for r, s, h in rows],
    }
    if key is not None:
        body["key"], body["mac"] = key.id, _seal(key, digest)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=0), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CheckpointError(
            f"无法写入检查点文件 {path} (cannot write the checkpoint): {exc.strerror or exc}"
        ) from exc
    return len(rows), digest


def read_checkpoint(path: Path, *, key: HistoryKey | None = None) -> list[tuple[str, int, str]]:
    """Read a checkpoint and check its own digest (and, with ``key``, its MAC when it has one).

    Raises:
        CheckpointError: unreadable, not a checkpoint, or altered since it was written.
    """
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"无法读取检查点文件 {path} (cannot read the checkpoint): {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} 不是 chengxin 检查点文件 (not a chengxin checkpoint)")
    try:
        heads = [(str(r), int(s), str(h)) for r, s, h in body.get("heads", [])]
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"检查点文件 {path} 已被改动 (the checkpoint file itself was altered)") from exc
    digest = _digest(heads)
    altered = digest != body.get("digest") or len(heads) != body.get("records")
    mac = body.get("mac")
    if key is not None and mac is not None and body.get("key") == key.id:
        altered = altered or not hmac.compare_digest(_seal(key, digest), str(mac))
    if altered:
        raise CheckpointError(f"检查点文件 {path} 已被改动 (the checkpoint file itself was altered)")
    return heads


def verify_checkpoint(
    checkpoint: Sequence[tuple[str, int, str]], hashes: Iterator[tuple[str, int, str]]
) -> list[Problem]:
    """Compare a checkpoint with the database's (record, seq, hash) rows, streamed in record order."""
    wanted = {record_id: (seq, head) for record_id, seq, head in checkpoint}
    seen_len: dict[str, int] = {}
    matched: set[str] = set()
    problems: list[Problem] = []
    for record_id, seq, digest in hashes:
        if record_id not in wanted:
            continue
        seen_len[record_id] = max(seen_len.get(record_id, 0), seq)
        want_seq, want_hash = wanted[record_id]
        if seq == want_seq:
            if digest == want_hash:
                matched.add(record_id)
            else:
                problems.append(Problem(record_id, "altered", f"row {seq} differs from the checkpoint", seq))
    for record_id, (seq, _head) in wanted.items():
        if record_id in matched or any(p.record_id == record_id for p in problems):
            continue
        if record_id not in seen_len:
            problems.append(
                Problem(
                    record_id, "missing", f"the record (with {seq} history rows at the checkpoint) is gone"
                )
            )
        else:
            problems.append(
                Problem(
                    record_id,
                    "shortened",
                    f"history has {seen_len[record_id]} rows, the checkpoint saw {seq}",
                )
            )
    return sorted(problems, key=lambda p: p.record_id)


# ---------------------------------------------------------------------------- a folder of them


def _when(path: Path) -> dt.datetime | None:
    found = NAMED.match(path.name)
    if found is None:
        return None
    return dt.datetime.strptime(found.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=dt.UTC)


def checkpoints(folder: Path) -> list[Path]:
    """The checkpoints ``take_checkpoint`` wrote into ``folder``, oldest first.

    Raises:
        CheckpointError: the folder does not exist.
    """
    if not folder.is_dir():
        raise CheckpointError(f"检查点目录 {folder} 不存在 (the checkpoint folder {folder} does not exist)")
    return sorted(p for p in folder.iterdir() if _when(p) is not None)


def latest(folder: Path) -> Path:
    """The newest checkpoint in ``folder``.

    Raises:
        CheckpointError: the folder does not exist or holds no checkpoint.
    """
    found = checkpoints(folder)
    if not found:
        raise CheckpointError(f"检查点目录 {folder} 中没有检查点 (no checkpoint in {folder} yet)")
    return found[-1]


def prune(folder: Path, *, keep: int = KEEP, keep_days: int = KEEP_DAYS) -> list[Path]:
    """Remove old checkpoints from ``folder``: the newest ``keep`` stay, and the newest of each
    day (UTC) of the last ``keep_days`` days; returns what was removed."""
    found = checkpoints(folder)
    if not found:
        return []
    kept = set(found[-keep:]) if keep > 0 else set()
    newest = _when(found[-1])
    assert newest is not None
    daily: dict[dt.date, Path] = {}
    for path in found:
        when = _when(path)
        assert when is not None
        if newest - when <= dt.timedelta(days=keep_days):
            daily[when.date()] = path  # later ones of a day replace earlier ones
    kept.update(daily.values())
    removed = [p for p in found if p not in kept]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def take_checkpoint(
    engine: Engine, folder: Path, *, keep: int = KEEP, keep_days: int = KEEP_DAYS
) -> dict[str, Any]:
    """What ``serve`` does on a schedule: compare the database with the newest checkpoint in
    ``folder``, write the next one, prune the old ones.

    Raises:
        CheckpointError: the folder does not exist, the newest checkpoint there was altered, or
            the database no longer holds what it saw (then no checkpoint is written, so the
            newest one keeps showing the loss to ``chengxin audit verify --checkpoint latest``).
    """
    before = checkpoints(folder)
    if before:
        heads = read_checkpoint(before[-1], key=engine.history_key)
        lost = verify_checkpoint(heads, engine.event_hashes())
        if lost:
            shown = "; ".join(str(p) for p in lost[:3])
            raise CheckpointError(
                f"数据库与检查点 {before[-1].name} 不符，未写入新检查点 (the database no longer holds what the "
                f"newest checkpoint saw: {len(lost)} records; no new checkpoint written): {shown}"
            )
    at = engine.clock.now()
    path = folder / f"{PREFIX}{at.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%S%f')}Z.json"
    count, digest = write_checkpoint(
        engine.heads(), path, at=at, database=engine.database, key=engine.history_key
    )
    removed = prune(folder, keep=keep, keep_days=keep_days)
    return {"checkpoint": str(path), "records": count, "digest": digest, "pruned": len(removed)}
