"""Verify an audit export offline: no database, no database settings, only the files.

A dossier (JSON, or the HTML page that carries it) and a bulk export (``histories.jsonl`` with
its ``manifest.json``) are checked the same way: every history row is re-hashed with the hash
function of ``workflow.core.history`` and linked to the row before it; each chain's head must
be the one the export names; the export's digest must match its content; a dossier's facts
and documents must be what its history says. With the history key the rows' MACs are checked
too. What cannot be checked offline is said, not hidden: without the key, someone who rewrote
rows and recomputed every hash and digest would not be caught, except against heads kept
elsewhere (``earlier``: an older export or its manifest).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.audit.dossier import (
    BULK_FORMAT,
    DOSSIER_FORMAT,
    HISTORIES_FILE,
    MANIFEST_FILE,
    chain_problems,
    digest_of,
    documents,
    facts_versions,
)
from workflow.engine.keys import HistoryKey
from workflow.errors import ExportInvalid

SCRIPT = re.compile(
    r'<script type="application/json" id="chengxin-dossier">(?P<json>.*?)</script>', re.DOTALL
)


@dataclass(slots=True)
class OfflineReport:
    """What an offline verification found."""

    kind: str  # dossier | page | bulk
    records: int = 0
    rows: int = 0
    sealed: int = 0  # rows whose MAC was checked with the key
    unkeyed: int = 0  # rows without a MAC
    unchecked: int = 0  # rows with a MAC that could not be checked (no key given)
    digest: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _load_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ExportInvalid(f"{where} 不是有效的 JSON (not valid JSON): {exc}") from exc


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ExportInvalid(f"无法读取 {path} (cannot read the export): {reason}") from exc


def heads_of(path: Path) -> dict[str, tuple[int, str]]:
    """The chain heads an earlier export names (a dossier, its page, a manifest or its folder).

    Raises:
        ExportInvalid: it cannot be read or is not an export.
    """
    if path.is_dir():
        path = path / MANIFEST_FILE
    document = _document(path)
    if document.get("format") == BULK_FORMAT:
        try:
            return {str(c["record_id"]): (int(c["seq"]), str(c["head"])) for c in document["chains"]}
        except (KeyError, TypeError, ValueError) as exc:
            raise ExportInvalid(f"{path}: 清单格式不对 (not a manifest): {exc}") from exc
    head = document.get("head") or {}
    record = document.get("record") or {}
    return {str(record.get("id")): (int(head.get("seq", 0)), str(head.get("hash", "")))}


def _document(path: Path) -> dict[str, Any]:
    text = _read(path)
    if text.lstrip().startswith("<"):
        found = SCRIPT.search(text)
        if found is None:
            raise ExportInvalid(f"{path} 不是卷宗页面 (not a dossier page: it carries no dossier data)")
        text = found.group("json")
    document = _load_json(text, str(path))
    if not isinstance(document, dict) or document.get("format") not in (DOSSIER_FORMAT, BULK_FORMAT):
        raise ExportInvalid(
            f"{path} 不是诚信导出 (not a chengxin export: expected format {DOSSIER_FORMAT} or {BULK_FORMAT})"
        )
    return document


def verify_export(path: Path, *, key: HistoryKey | None = None, earlier: Path | None = None) -> OfflineReport:
    """Check an export at ``path`` (a dossier file, its HTML page, or a bulk export folder or
    its manifest), optionally against the heads of an ``earlier`` export.

    Raises:
        ExportInvalid: a file cannot be read or is not an export.
    """
    before = heads_of(earlier) if earlier is not None else None
    if path.is_dir() or path.name == MANIFEST_FILE:
        folder = path if path.is_dir() else path.parent
        return _verify_bulk(folder, key, before)
    text = _read(path)
    document = _document(path)
    if document.get("format") != DOSSIER_FORMAT:
        raise ExportInvalid(f"{path}: 清单须与其目录一起校验 (verify a manifest through its folder)")
    page = text.lstrip().startswith("<")
    report = _verify_dossier(document, key, before, OfflineReport(kind="page" if page else "dossier"))
    if page and not report.problems:
        from workflow.audit.export import dossier_html

        if dossier_html(document) != text:
            report.problems.append(
                f"{document['record'].get('id')}: 页面文字与所载数据不符 (the page's visible text differs from "
                "the dossier it carries)"
            )
    return report


def _seal_check(
    rows: Sequence[Mapping[str, Any]], key: HistoryKey | None, report: OfflineReport, record: str
) -> None:
    for row in rows:
        mac = row.get("mac")
        if not mac:
            report.unkeyed += 1
        elif key is None:
            report.unchecked += 1
        elif key.holds(str(row.get("hash", "")), str(mac)):
            report.sealed += 1
        else:
            report.problems.append(
                f"{record}: seq {row.get('seq')}: MAC 不符 (the row's MAC does not hold under the key)"
            )


def _against(
    record: str,
    rows: Sequence[Mapping[str, Any]],
    before: Mapping[str, tuple[int, str]] | None,
    report: OfflineReport,
) -> None:
    if before is None or record not in before:
        return
    seq, digest = before[record]
    found = next((row for row in rows if row.get("seq") == seq), None)
    if found is None or found.get("hash") != digest:
        report.problems.append(
            f"{record}: 与早先导出的链头 seq {seq} 不符 (the chain no longer holds the head an earlier export recorded)"
        )


def _verify_dossier(
    document: Mapping[str, Any],
    key: HistoryKey | None,
    before: Mapping[str, tuple[int, str]] | None,
    report: OfflineReport,
) -> OfflineReport:
    try:
        record = str(document["record"]["id"])
        rows = list(document["history"])
        head = document["head"]
    except (KeyError, TypeError) as exc:
        raise ExportInvalid(f"卷宗缺少部分 (the dossier lacks a part): {exc}") from exc
    report.records, report.rows, report.digest = 1, len(rows), str(document.get("digest", ""))
    report.problems.extend(f"{record}: {p}" for p in chain_problems(rows))
    if any(isinstance(row, Mapping) and row.get("record_id") != record for row in rows):
        report.problems.append(f"{record}: 历史中有其他记录的行 (the history holds rows of another case)")
    if not rows or head.get("seq") != rows[-1].get("seq") or head.get("hash") != rows[-1].get("hash"):
        report.problems.append(f"{record}: 链头与最后一条历史不符 (the head is not the last history row)")
    if digest_of(document) != document.get("digest"):
        report.problems.append(
            f"{record}: 卷宗摘要不符，卷宗被改动 (the dossier digest does not match its content)"
        )
    if not report.problems:
        if document.get("facts") != facts_versions(rows):
            report.problems.append(
                f"{record}: 事实版本与历史不符 (the facts differ from what the history records)"
            )
        if document.get("documents") != documents(rows):
            report.problems.append(
                f"{record}: 文书清单与历史不符 (the documents differ from those the history cites)"
            )
    _seal_check(rows, key, report, record)
    _against(record, rows, before, report)
    _notes(report, key)
    return report


def _lines(path: Path, sha: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                sha.update(line)
                row = _load_json(line.decode("utf-8", errors="replace"), f"{path.name} line {number}")
                if not isinstance(row, dict):
                    raise ExportInvalid(f"{path.name} line {number}: 不是历史行 (not a history row)")
                yield number, row
    except OSError as exc:
        raise ExportInvalid(f"无法读取 {path} (cannot read the export): {exc.strerror or exc}") from exc


def _verify_bulk(
    folder: Path, key: HistoryKey | None, before: Mapping[str, tuple[int, str]] | None
) -> OfflineReport:
    manifest = _document(folder / MANIFEST_FILE)
    report = OfflineReport(kind="bulk", digest=str(manifest.get("digest", "")))
    if manifest.get("format") != BULK_FORMAT:
        raise ExportInvalid(f"{folder / MANIFEST_FILE} 不是批量导出清单 (not a bulk export manifest)")
    if digest_of(manifest) != manifest.get("digest"):
        report.problems.append(
            "manifest: 清单摘要不符，清单被改动 (the manifest digest does not match its content)"
        )
    try:
        heads = {str(c["record_id"]): (int(c["seq"]), str(c["head"])) for c in manifest["chains"]}
        listed = manifest["files"][HISTORIES_FILE]
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportInvalid(f"清单格式不对 (not a manifest): {exc}") from exc
    sha = hashlib.sha256()
    seen: set[str] = set()
    group: list[dict[str, Any]] = []

    def close(rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        record = str(rows[0].get("record_id"))
        if record in seen:
            report.problems.append(f"{record}: 历史行不连续 (its rows are not together in the file)")
        seen.add(record)
        report.records += 1
        report.problems.extend(f"{record}: {p}" for p in chain_problems(rows))
        last = rows[-1]
        if heads.get(record) != (last.get("seq"), last.get("hash")):
            report.problems.append(
                f"{record}: 链头与清单不符 (the chain's head is not the one the manifest holds)"
            )
        _seal_check(rows, key, report, record)
        _against(record, rows, before, report)

    for _number, row in _lines(folder / HISTORIES_FILE, sha):
        report.rows += 1
        if group and row.get("record_id") != group[0].get("record_id"):
            close(group)
            group = []
        group.append(row)
    close(group)
    if sha.hexdigest() != listed.get("sha256") or report.rows != listed.get("rows"):
        report.problems.append(
            f"{HISTORIES_FILE}: 文件摘要或行数与清单不符 (the file's SHA-256 or row count is not the manifest's)"
        )
    for record in sorted(set(heads) - seen):
        report.problems.append(
            f"{record}: 清单中的记录在文件中缺失 (listed in the manifest, missing from the file)"
        )
    if before is not None:
        for record in sorted(set(before) - seen):
            report.problems.append(
                f"{record}: 早先导出的记录缺失 (in the earlier export, missing from this one)"
            )
    _notes(report, key)
    return report


def _notes(report: OfflineReport, key: HistoryKey | None) -> None:
    """What the verification could not check, in words an auditor acts on."""
    if report.unchecked:
        report.notes.append(
            f"{report.unchecked} 条历史带有密钥封印，未提供历史密钥无法核对 (rows carry a MAC that cannot be "
            "checked without the history key: give --key-file). Without it, a rewrite whose hashes and "
            "digest were all recomputed shows only against heads kept elsewhere (--against)."
        )
    if report.unkeyed and key is not None:
        report.notes.append(
            f"{report.unkeyed} 条历史无封印 (rows carry no MAC: written before the history key was in use)"
        )
    if not report.unchecked and not report.sealed:
        report.notes.append(
            "未启用历史密钥：哈希链与摘要能发现改动，但无法发现重新计算全部哈希的改写 (no history key in use: the "
            "chain and the digest show any edit, but not a rewrite that recomputed every hash; compare with "
            "heads kept elsewhere: --against an earlier export)"
        )
