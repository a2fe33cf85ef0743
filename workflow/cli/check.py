"""``chengxin check`` and ``chengxin archive``: the credit check (信用核查) and the integrity
archive (公务员诚信档案) for operators on the server.

Both are reads that leave a row in the query log (who, when, why, which subject — a person only
by masked ID number), so both need ``--reason``. ID numbers can be given on standard input
(``-``) so they stay out of the shell history and the process list.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from workflow.cli.common import DbOption, JsonOption, actor_of, fail, opened, out, user_errors
from workflow.cli.output import add_row, new_table, print_json
from workflow.engine.credit import BATCH, IntegrityArchive, SubjectStatus

ReasonOption = Annotated[
    str, typer.Option("--reason", "-r", help="核查理由 why (required; written to the query log)")
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="核查日期 the date asked about, YYYY-MM-DD (default today)")
]
CheckActor = Annotated[
    str, typer.Option("--actor", envvar="CHENGXIN_ACTOR", help="核查人 who asks (written to the query log)")
]
CheckRole = Annotated[str, typer.Option("--role", envvar="CHENGXIN_ROLE", help="角色 role")]
CheckUnit = Annotated[
    str, typer.Option("--unit", envvar="CHENGXIN_UNIT", help="核查人所在单位 the asker's unit")
]


def _subjects(given: list[str]) -> list[str]:
    subjects: list[str] = []
    for item in given:
        if item == "-":
            subjects.extend(line.strip() for line in sys.stdin if line.strip())
        else:
            subjects.append(item)
    if not subjects:
        fail("没有要核查的主体 (no subject given)", 7)
    if len(subjects) > BATCH:
        fail(f"一次最多核查 {BATCH} 个主体 (at most {BATCH} subjects), got {len(subjects)}", 7)
    return subjects


def check(
    subjects: Annotated[
        list[str],
        typer.Argument(
            help="统一社会信用代码或身份证号码，可多个；'-' 从标准输入逐行读取 "
            "(codes or ID numbers; '-' reads one per line from stdin)",
            show_default=False,
        ),
    ],
    reason: ReasonOption,
    actor: CheckActor,
    purpose: Annotated[
        list[str] | None,
        typer.Option(
            "--purpose",
            "-p",
            help="用途 honours|annual_appraisal|funding|procurement|… (repeatable; default all)",
        ),
    ] = None,
    as_of: AsOfOption = None,
    role: CheckRole = "operator",
    unit: CheckUnit = "operator",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """信用核查：主体能否评优、评先、获得资金、参与采购 (credit check: may a subject be honoured, rated 优秀, funded, contracted)."""
    who = actor_of(actor, role, unit)
    asked = _subjects(subjects)
    with user_errors(), opened(db, None) as engine:
        statuses = engine.subject_statuses(asked, as_of=as_of, purposes=purpose, actor=who, reason=reason)
    if as_json:
        print_json([s.as_dict() for s in statuses])
        return
    for status in statuses:
        _show_status(status)


def _show_status(status: SubjectStatus) -> None:
    kind = "个人 person" if status.person else "单位 organisation"
    out.print(
        f"\n[bold]{status.subject}[/bold] ({kind}) 核查日期 as of {status.as_of.isoformat()}: "
        f"有效失信记录 active records {len(status.active_records)}，"
        f"异议处理中 objections pending {len(status.pending_objections)}"
    )
    for record in status.active_records:
        out.print(
            f"  {record['record_id']}  {record['definition']}  {record['severity_label']}  "
            f"{record['source_type_label']} {record['document_number'] or ''}  认定之日 {record['finding_date']}"
            + ("  [yellow]异议处理中[/yellow]" if record["objection_pending"] else "")
        )
    for sanction in status.sanctions:
        measures = "、".join(m["label"] for m in sanction["measures"]) or "—"
        out.print(
            f"  惩戒 sanctions {sanction['record_id']}: {measures}（{sanction['state_label']}），"
            f"至 until {sanction['ends'] or '记录状态改变时 while the record stays as it is'}"
        )
    table = new_table("用途 purpose", "结论 answer", "理由与依据 reason and legal basis")
    for answer in status.answers:
        if answer.allowed:
            verdict = "准予 allowed"
        else:
            until = answer.until.isoformat() if answer.until else "记录解除前 until the record is lifted"
            verdict = f"限制至 barred until {until}"
        reasons = "；".join(f"{b.label}（{b.record_id}）依据 {b.legal_basis}" for b in answer.bars) or "—"
        add_row(table, f"{answer.label} {answer.purpose}", verdict, reasons)
    out.print(table)


def archive(
    id_number: Annotated[
        str, typer.Argument(help="身份证号码；'-' 从标准输入读取 (ID number; '-' reads it from stdin)")
    ],
    reason: ReasonOption,
    actor: CheckActor,
    as_of: AsOfOption = None,
    role: CheckRole = "operator",
    unit: CheckUnit = "operator",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """公务员诚信档案：记录、惩戒、处分影响期、承诺、年度考核 (a civil servant's integrity archive)."""
    who = actor_of(actor, role, unit)
    number = sys.stdin.readline().strip() if id_number == "-" else id_number
    with user_errors(), opened(db, None) as engine:
        found = engine.integrity_archive(number, as_of=as_of, actor=who, reason=reason)
    if as_json:
        print_json(found.as_dict())
        return
    _show_archive(found)


def _show_archive(found: IntegrityArchive) -> None:
    out.print(
        f"[bold]公务员诚信档案 integrity archive[/bold] {found.person}  "
        f"{'、'.join(found.names) or '—'}  {'、'.join(found.employers) or ''}  as of {found.as_of.isoformat()}"
    )
    table = new_table(
        "记录 record", "版本 definition", "状态 state", "来源 source", "认定之日 found", "程度 severity"
    )
    for r in found.records:
        add_row(
            table,
            r["record_id"],
            r["definition"],
            r["state_label"],
            f"{r['source_type_label']} {r['document_number'] or ''}",
            r["finding_date"],
            r["severity_label"],
        )
    out.print(table)
    for s in found.sanctions:
        measures = "、".join(m["label"] for m in s["measures"]) or "—"
        out.print(
            f"惩戒 sanctions {s['record_id']}: {measures}（{s['state_label']}）至 until {s['ends'] or '—'}"
        )
    for p in found.impact_periods:
        running = "影响期内 running" if p["running"] else "已届满 ended"
        out.print(
            f"处分影响期 impact period {p['record_id']}: {p['sanction_label']} {p['since']} – {p['until']} ({running})"
        )
    for c in found.commitments:
        out.print(f"承诺 commitment {c['record_id']}: {c['state_label']}")
    a = found.appraisal
    verdict = (
        "可评优秀 may be rated 优秀"
        if a["allowed"]
        else f"不得评为优秀 not 优秀, until {a['barred_until'] or '—'}"
    )
    out.print(f"{a['year']} 年度考核 annual appraisal: {verdict}")
