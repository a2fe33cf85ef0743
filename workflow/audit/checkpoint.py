"""Checkpoints: what a chain cannot reveal, a file kept outside the database can.

A chain cannot reveal a case removed whole, or a tail cut off together with its projection: a
checkpoint (``write_checkpoint``) records every chain's head and one digest over them all, and
``verify_checkpoint`` reports every case missing or shortened since.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from workflow.core.fold import Problem
from workflow.errors import CheckpointError

CHECKPOINT_FORMAT = "chengxin-checkpoint/1"


def _digest(heads: Iterable[tuple[str, int, str]]) -> str:
    digest = hashlib.sha256()
    for record_id, seq, head in heads:
        digest.update(f"{record_id} {seq} {head}\n".encode())
    return digest.hexdigest()


def write_checkpoint(
    heads: Iterator[tuple[str, int, str]], path: Path, *, at: dt.datetime, database: str
) -> tuple[int, str]:
    """Write every chain head and one digest over them all; returns (records, digest)."""
    rows = list(heads)
    digest = _digest(rows)
    body = {
        "format": CHECKPOINT_FORMAT,
        "created_at": at.isoformat(),
        "database": database,
        "records": len(rows),
        "digest": digest,
        "heads": [[r, s, h] for r, s, h in rows],
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=0), encoding="utf-8")
    tmp.replace(path)
    return len(rows), digest


def read_checkpoint(path: Path) -> list[tuple[str, int, str]]:
    """Read a checkpoint and check its own digest.

    Raises:
        CheckpointError: unreadable, not a checkpoint, or altered since it was written.
    """
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"无法读取检查点文件 {path} (cannot read the checkpoint): {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} 不是 chengxin 检查点文件 (not a chengxin checkpoint)")
    heads = [(str(r), int(s), str(h)) for r, s, h in body.get("heads", [])]
    if _digest(heads) != body.get("digest") or len(heads) != body.get("records"):
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
                problems.append(Problem(record_id, "altered", f"row {seq} differs from the checkpoint"))
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
