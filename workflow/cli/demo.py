"""The demo: five records through their lifecycles on a simulated clock, in seconds.

It builds a fresh drill database (simulated time, so nothing in it can pass for real), lets
caseworkers, responsible units and reviewers act on the national definition, runs the
deadline sweep as simulated days pass, and prints every record's timeline and the audit
result. Nothing here is used by the engine itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console

from workflow import Actor, Engine, audit
from workflow.cli import logs
from workflow.engine.clock import ManualClock, shanghai
from workflow.runtime.dispatch import Dispatcher, MailSettings

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 5, 11, 9, 0, tzinfo=SH)

RECORDER = Actor(id="li.lei", role="recorder", unit="hexi-court")
VERIFIER = Actor(id="wang.fang", role="verifier", unit="credit-office")
REVIEWER = Actor(id="chen.jie", role="reviewer", unit="hexi-court")
ZJW = Actor(id="zhao.qiang", role="subject", unit="hexi-zjw")
TOWN = Actor(id="liu.min", role="subject", unit="dasi-town")
BUREAU = Actor(id="sun.hao", role="subject", unit="hexi-hrb")

BASE: dict[str, Any] = {
    "superior_unit": "hexi-gov",
    "finding_unit": "hexi-court",
    "domain": "procurement",
    "severity": "general",
}
RECORDS: dict[str, dict[str, Any]] = {
    "住建委": {
        **BASE,
        "subject_kind": "department",
        "subject_name": "河西区住房和建设委员会",
        "subject_code": "11120103MB12345678",
        "responsible_unit": "hexi-zjw",
        "source_type": "judgment",
        "document_number": "（2026）津0103民初1234号",
        "finding_date": "2026-05-08",
        "facts": "政府采购合同履约验收后，拖欠供应商货款八十万元，经判决仍未支付。",
    },
    "大寺镇": {
        **BASE,
        "subject_kind": "township",
        "subject_name": "西青区大寺镇人民政府",
        "subject_code": "11120111MB00000003",
        "responsible_unit": "dasi-town",
        "superior_unit": "xiqing-gov",
        "source_type": "arrears",
        "document_number": "西青人社监〔2026〕17号",
        "finding_date": "2026-05-06",
        "facts": "拖欠农民工工资三十二万元，经责令限期支付逾期未履行。",
        "domain": "township",
        "severity": "serious",
    },
    "人社局": {
        **BASE,
        "subject_kind": "department",
        "subject_name": "河西区人力资源和社会保障局",
        "subject_code": "11120103MB0000001K",
        "responsible_unit": "hexi-hrb",
        "source_type": "breach_of_contract",
        "document_number": "河西招商〔2026〕3号",
        "finding_date": "2026-05-07",
        "facts": "招商引资协议约定的奖励资金，以人员调整为由未予兑现。",
        "domain": "investment_attraction",
    },
    "公务员": {
        **BASE,
        "subject_kind": "civil_servant",
        "subject_name": "王某",
        "subject_id_number": "11010519491231002X",
        "employer": "河西区住房和建设委员会",
        "responsible_unit": "hexi-zjw",
        "source_type": "disciplinary_sanction",
        "disciplinary_sanction": "demerit",
        "document_number": "河西纪处〔2026〕5号",
        "finding_date": "2026-05-09",
        "facts": "在政府采购验收中玩忽职守，受到记过处分。",
    },
    "试点": {
        **BASE,
        "subject_kind": "department",
        "subject_name": "河西区政务服务办公室",
        "subject_code": "11120103MB0000002N",
        "responsible_unit": "hexi-zwb",
        "source_type": "accountability",
        "document_number": "河西问责〔2026〕2号",
        "finding_date": "2026-05-08",
        "facts": "“一网通办”改革试点中审批时限承诺未兑现。",
        "domain": "other",
        "severity": "minor",
    },
}


@dataclass
class Demo:
    engine: Engine
    clock: ManualClock
    console: Console
    ids: dict[str, str]

    def until(self, when: dt.datetime) -> None:
        """Let simulated time pass day by day, running the deadline sweep each morning."""
        while self.clock.now() < when:
            step = min(when, self.clock.now() + dt.timedelta(days=1))
            self.clock.set(step)
            result = self.engine.sweep()
            if result.fired:
                self.console.print(f"  [dim]{shanghai(step)} 期限巡检 sweep: {result.fired} 项到期处理[/dim]")

    def at(self, day: str, hour: int = 10) -> None:
        self.until(dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SH))

    def fire(self, name: str, event: str, actor: Actor, comment: str = "", **payload: Any) -> None:
        view = self.engine.fire(self.ids[name], event, actor=actor, payload=payload, comment=comment)
        tracks = " ".join(f"{t.track_label}:{t.label}" for t in view.tracks if t.track != "main")
        self.console.print(
            f"  {shanghai(self.clock.now())}  {name:<4} {event:<28} → {view.state_label} {tracks}"
        )


UNITS = [
    {"code": "hexi-court", "name": "河西区人民法院", "emails": "xinyong@hexi-court.example.gov.cn"},
    {"code": "credit-office", "name": "区发展改革委（信用办）", "emails": "xinyongban@hexi.example.gov.cn"},
    {"code": "hexi-gov", "name": "河西区人民政府", "emails": "duban@hexi.example.gov.cn"},
    {
        "code": "hexi-zjw",
        "name": "河西区住房和建设委员会",
        "superior": "hexi-gov",
        "emails": "bgs@zjw.hexi.example.gov.cn",
    },
    {
        "code": "dasi-town",
        "name": "西青区大寺镇人民政府",
        "superior": "xiqing-gov",
        "emails": "dasi@xiqing.example.gov.cn",
    },
    {"code": "xiqing-gov", "name": "西青区人民政府", "emails": "duban@xiqing.example.gov.cn"},
    {
        "code": "hexi-hrb",
        "name": "河西区人力资源和社会保障局",
        "superior": "hexi-gov",
        "emails": "rsj@hexi.example.gov.cn",
    },
    {
        "code": "hexi-zwb",
        "name": "河西区政务服务办公室",
        "superior": "hexi-gov",
        "emails": "zwb@hexi.example.gov.cn",
    },
]


def _register(demo: Demo) -> None:
    demo.engine.units.save(UNITS)
    for name, fields in RECORDS.items():
        view = demo.engine.register(
            # 容错纠错 is Tongxin's rule (national@2 does not carry it): the pilot case runs there
            "tongxin" if name == "试点" else "national",
            fields,
            actor=RECORDER,
            submit=True,
            idempotency_key=f"demo-{name}",
        )
        demo.ids[name] = view.id
        demo.console.print(
            f"  {shanghai(demo.clock.now())}  {name:<4} 登记并提交 register+submit      → {view.id}"
        )


def _story(demo: Demo) -> None:
    d, f = demo, demo.fire
    d.at("2026-05-12")
    for name in RECORDS:
        f(name, "accept", VERIFIER)
    f(
        "试点",
        "exempt",
        VERIFIER,
        "改革试点中的失误，符合容错纠错情形",
        reason_code="reform",
        no_ban_broken=True,
        no_private_gain=True,
        no_intent=True,
        remediated=True,
        evidence=["河西政务办整改报告"],
    )
    for name in ("住建委", "大寺镇", "人社局", "公务员"):
        f(name, "confirm", VERIFIER, "核查属实，予以记录")
    d.at("2026-05-14")
    for name in ("住建委", "大寺镇", "人社局"):
        f(name, "publish", VERIFIER)
    f("公务员", "share_internally", VERIFIER, "公务员失信记录仅内部共享")
    d.at("2026-05-18")
    f("住建委", "submit_explanation", ZJW, explanation="因预算调整审批滞后导致付款延误，现已安排资金。")
    f("人社局", "file_objection", BUREAU, reasons="协议约定的兑现条件尚未成就，认定有误。")
    f("公务员", "mitigate_sanctions", VERIFIER, "当事人主动挽回损失", evidence=["退赔凭证"])
    d.at("2026-05-21")
    f("人社局", "revoke", REVIEWER, "经复核，兑现条件未成就，撤销记录", sanctions_wrong=True)
    d.at("2026-05-22")
    f("人社局", "confirm_withdrawal", VERIFIER)
    d.at("2026-06-10")
    f("住建委", "submit_rectification_report", ZJW, report="已全额支付货款及利息，并建立合同履约台账。")
    f("住建委", "accept_rectification", VERIFIER, "整改到位")
    f(
        "人社局",
        "complete_restoration",
        VERIFIER,
        "已在信用网站发布更正说明",
        measures="发布更正说明，向上级通报",
    )
    f("人社局", "close_revoked", VERIFIER, "撤销事项办结")
    d.at("2026-06-16")  # 大寺镇 never explained itself: the sweep has marked it overdue
    f("大寺镇", "submit_explanation", TOWN, explanation="镇财政资金紧张，已申请区级周转资金。")
    d.at("2026-08-10")
    f("住建委", "apply_repair", ZJW, means=["commitment", "rectification"], commitment=["信用承诺书"])
    d.at("2026-08-14")
    f("住建委", "grant_repair", REVIEWER, "承诺并整改到位，准予修复")
    d.at("2026-08-17")
    f("住建委", "confirm_withdrawal", VERIFIER)
    d.at("2026-09-01")


def _timeline(demo: Demo, name: str) -> None:
    rid = demo.ids[name]
    view = demo.engine.get(rid)
    overdue = "  [bold red]逾期 overdue[/bold red]" if view.overdue else ""
    demo.console.print(
        f"\n[bold]{rid}  {view.data.get('subject_name')}[/bold] — {view.state_label} ({view.state}){overdue}"
    )
    for entry in demo.engine.history(rid):
        changes = ", ".join(f"{t}→{b or '—'}" for t, _a, b in entry.changes) or "—"
        demo.console.print(
            f"  {shanghai(entry.occurred_at)}  {entry.event_label} ({entry.event})  "
            f"[dim]{entry.actor}/{entry.role}[/dim]  {changes}"
        )
        for d in entry.effects.get("deadlines", []):
            label = demo.engine.registry.select("national").deadlines[d["name"]].label
            if d["action"] in {"start", "resume", "extend", "recompute"} and d.get("due_at"):
                due = shanghai(dt.datetime.fromisoformat(d["due_at"]))
                demo.console.print(f"      [dim]期限 {label} {d['action']} → 到期 {due}[/dim]")
            else:
                outcome = d.get("outcome") or d["action"]
                demo.console.print(f"      [dim]期限 {label} {outcome}[/dim]")


def run_demo(
    db: Path, out_dir: Path, console: Console, *, after: Callable[[Engine], None] | None = None
) -> Engine:
    """Run the demo into a fresh drill database at ``db``; returns the engine (still open)."""
    logs.configure(quiet=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{db}"
    Engine.init(url, simulated_start=START)[0].close()
    clock = ManualClock(START)
    demo = Demo(engine=Engine.open(url, clock=clock), clock=clock, console=console, ids={})
    console.print(
        "[bold]诚信 chengxin 演示 demo[/bold] — 国家参考流程 national@1, 模拟时钟 simulated clock from "
        + shanghai(START)
    )
    _register(demo)
    _story(demo)
    demo.engine.advance_clock(clock.now())
    console.print()
    for name in RECORDS:
        _timeline(demo, name)
    dispatcher = Dispatcher(demo.engine, MailSettings.from_env({}, folder=out_dir))
    sent = dispatcher.run()
    console.print(
        f"\n邮件 mail: {sent.sent} 封已写入 written to {out_dir}/ (.eml; 没有配置 SMTP 服务器 no SMTP server configured)"
    )
    report = audit.verify(
        demo.engine.registry, demo.engine.cases(), real_time=False, subject_key=demo.engine.subject_key
    )
    status = "完好 intact" if report.intact else f"{len(report.problems)} problems"
    console.print(f"审计 audit: {report.records} records, {report.events} events — {status}")
    if after is not None:
        after(demo.engine)
    console.print(f"数据库 database: {db}  (try: .venv/bin/chengxin record list --db sqlite:///{db})")
    return demo.engine
