"""Sample contexts for every notice in ``notifications.catalog.NOTICES``.

The golden files in ``tests/golden/notifications/`` are these contexts rendered; the delivery tests send
them. Every datetime is in UTC, as the engine stores it; the notices show it in Asia/Shanghai. The deadlines
are worked out on the 2026 official calendar, so the explanation lines are true.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

RESPONSIBLE_UNIT = {"name": "天津市某区住房和城乡建设委员会", "code": "11120101000012345" + "9"}
SUPERIOR_UNIT = {"name": "天津市某区人民政府", "code": "11120000MB0123456" + "6"}
DEFINITION = {"title": "政务失信记录管理（国家基准）", "jurisdiction": "天津市"}
LEGAL_BASIS = "《天津市人民政府关于印发天津市加强政务诚信建设实施方案的通知》（津政发〔2017〕29号）"

RECORD: dict[str, Any] = {
    "id": "CX-2026-000128",
    "subject_name": RESPONSIBLE_UNIT["name"],
    "subject_code": RESPONSIBLE_UNIT["code"],
    "subject_kind_label": "政府部门",
    "source_type_label": "司法判决",
    "document_number": "（2026）津0101民初1234号",
    "finding_date": date(2026, 11, 2),
    "severity_label": "一般",
    "domain_label": "政府采购",
    "facts": "拖欠中标供应商货款人民币86.5万元，经人民法院判决后仍未履行支付义务。",
    "responsible_unit_name": RESPONSIBLE_UNIT["name"],
    "finding_unit_name": "天津市和平区人民法院",
}

EVENT = {
    "label": "审核确认并记录",
    "comment": "事实清楚，证据充分，予以记录。",
    "actor_unit_name": "天津市发展和改革委员会",
    "occurred_at": datetime(2026, 11, 19, 2, 30, tzinfo=UTC),
}

EXPLANATION_DEADLINE = {
    "label": "书面说明原因",
    "due_at": datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
    "rule": "自收到告知之日起10个工作日内",
    "explanation": [
        "2026年11月19日（星期四）收到告知，自次日起算，收到当日不计入",
        "期间无法定节假日和调休，第10个工作日为2026年12月3日（星期四）",
    ],
    "provisional": False,
    "legal_basis": "津政发〔2017〕29号 二(二)4",
}

NATIONAL_DAY_DEADLINE = {
    "label": "书面说明原因",
    "due_at": datetime(2026, 10, 15, 9, 0, tzinfo=UTC),
    "rule": "自收到告知之日起10个工作日内",
    "explanation": [
        "2026年9月24日（星期四）收到告知，自次日起算",
        "9月25日至27日中秋节、10月1日至7日国庆节放假，不计入",
        "10月10日（星期六）为调休工作日，计入",
        "第10个工作日为2026年10月15日（星期四）",
    ],
    "provisional": False,
    "legal_basis": "津政发〔2017〕29号 二(二)4",
}

RECTIFICATION_DEADLINE = {
    "label": "限期整改",
    "due_at": datetime(2027, 1, 18, 9, 0, tzinfo=UTC),
    "rule": "自通知之日起30日内；期限届满日为非工作日的，顺延至下一工作日",
    "explanation": [
        "自2026年12月18日（星期五）起算30日，届满日2027年1月17日为星期日",
        "顺延至下一工作日2027年1月18日（星期一）",
        "2027年节假日安排尚未公布，按周末和法定节假日暂行计算",
    ],
    "provisional": True,
    "legal_basis": "津政发〔2017〕29号 二(二)4；《中华人民共和国民法典》第二百零三条",
}


def _base(**extra: Any) -> dict[str, Any]:
    """The common keys with ``extra`` merged over them; ``event=None`` leaves the event out."""
    context = {
        "recipient": RESPONSIBLE_UNIT,
        "definition": DEFINITION,
        "legal_basis": LEGAL_BASIS,
        "record": RECORD,
        "event": EVENT,
    } | extra
    return {key: value for key, value in context.items() if value is not None}


COMPLAINT = {
    "id": "TS20261103-4M8QZ1",
    "kind": "complaint",
    "title": "投诉举报",
    "responsible_unit_name": RESPONSIBLE_UNIT["name"],
    "summary": [
        {"label": "受理渠道", "value": "12345政务服务便民热线"},
        {"label": "被投诉单位", "value": RESPONSIBLE_UNIT["name"]},
        {"label": "投诉事项", "value": "区住建委未按合同约定支付中标供应商货款。"},
    ],
}

_SAMPLES: dict[str, dict[str, Any]] = {
    "case_deadline": _base(
        record=COMPLAINT,
        deadline=RECTIFICATION_DEADLINE,
        event=EVENT
        | {"label": "认定投诉属实并责令限期整改", "comment": "请于期限内付清欠款并报送整改情况。"},
    ),
    "record_notice": _base(deadline=EXPLANATION_DEADLINE),
    "repair_notice": _base(
        legal_basis="《泰安市加强诚信政府建设实施方案》（信用修复告知制度）",
        repair={
            "earliest_date": date(2027, 2, 2),
            "means": ["作出信用承诺", "完成失信整改", "通过信用核查", "接受专题培训", "提交信用报告"],
            "decided_by": "天津市和平区人民法院",
        },
    ),
    "explanation_request": _base(deadline=NATIONAL_DAY_DEADLINE),
    "rectification_deadline": _base(
        deadline=RECTIFICATION_DEADLINE,
        event=EVENT
        | {
            "label": "设定整改期限",
            "comment": "请于期限内付清欠款并报送整改报告。",
            "occurred_at": datetime(2026, 12, 18, 1, 0, tzinfo=UTC),
        },
    ),
    "reminder": _base(
        deadline=NATIONAL_DAY_DEADLINE,
        rung={"kind": "before", "working_days": 5, "label": "到期前5个工作日提醒"},
        event=None,
    ),
    "overdue": _base(deadline=NATIONAL_DAY_DEADLINE, event=None),
    "check_opened": _base(
        legal_basis="政务诚信体系建设工作台账（津政发〔2017〕29号附件）检查考核栏",
        record={
            "id": "TZ20180102-4M8QZ1",
            "kind": "ledger_task",
            "title": "天津市政务诚信体系建设工作台账任务",
            "responsible_unit_name": "市委组织部",
            "summary": [
                {"label": "序号", "value": "1"},
                {"label": "工作任务", "value": "建立政务诚信考核管理机制"},
                {"label": "本次检查", "value": "2018年年中检查"},
            ],
        },
        deadline={
            "label": "工作进展报送期限",
            "due_at": datetime(2018, 6, 29, 9, 0, tzinfo=UTC),
            "rule": "检查日前报送",
            "explanation": ["检查日 2018-06-30 为星期六，报送截止提前至 2018-06-29（星期五）"],
            "provisional": False,
            "legal_basis": "政务诚信体系建设工作台账（津政发〔2017〕29号附件）检查考核栏",
        },
        event=EVENT | {"label": "开展检查考核", "actor_unit_name": "系统自动处理", "comment": ""},
    ),
    "escalation": _base(
        recipient=SUPERIOR_UNIT, deadline=NATIONAL_DAY_DEADLINE, subordinate=RESPONSIBLE_UNIT, event=None
    ),
    "superior_notice": _base(
        recipient=SUPERIOR_UNIT,
        legal_basis="《泰安市加强诚信政府建设实施方案》（向上级主管单位及时通报）",
    ),
    "objection_received": _base(
        legal_basis="《浙江省公共信用信息管理条例》第十五条、第十六条",
        objection={
            "filed_by": RESPONSIBLE_UNIT["name"],
            "reasons": "所涉货款已于2026年11月25日全额支付，请求核实后撤销记录。",
        },
        deadline={
            "label": "异议处理决定",
            "due_at": datetime(2026, 12, 4, 9, 0, tzinfo=UTC),
            "rule": "自受理之日起5个工作日内",
            "explanation": [
                "2026年11月27日（星期五）受理，自次日起算",
                "第5个工作日为2026年12月4日（星期五）",
            ],
            "provisional": False,
            "legal_basis": "《浙江省公共信用信息管理条例》第十六条",
        },
        event=EVENT
        | {
            "label": "受理异议",
            "comment": None,
            "actor_unit_name": "天津市发展和改革委员会",
            "occurred_at": datetime(2026, 11, 27, 6, 0, tzinfo=UTC),
        },
    ),
    "objection_decided": _base(
        objection={
            "outcome": "maintained",
            "outcome_label": "维持",
            "reasons": "经向认定单位核实，判决确定的付款义务至今未履行完毕，异议理由不成立。",
        },
    ),
    "correction": _base(
        record=RECORD | {"facts": "拖欠中标供应商货款人民币68.5万元，经人民法院判决后仍未履行支付义务。"},
        correction={
            "changes": [
                {
                    "field": "失信事实",
                    "old": "拖欠中标供应商货款人民币86.5万元",
                    "new": "拖欠中标供应商货款人民币68.5万元",
                },
                {"field": "失信程度", "old": "严重", "new": "一般"},
            ],
            "reasons": "经认定单位复核，原记录金额录入有误。",
        },
    ),
    "revocation": _base(
        legal_basis="《中华人民共和国行政处罚法》第四十八条",
        revocation={"reasons": "据以认定的判决已被再审撤销，记录依据不复存在。"},
        deadline={
            "label": "撤回公示",
            "due_at": datetime(2026, 12, 9, 9, 0, tzinfo=UTC),
            "rule": "撤销决定作出后3个工作日内",
            "explanation": [
                "2026年12月4日（星期五）作出撤销决定，自次日起算",
                "第3个工作日为2026年12月9日（星期三）",
            ],
            "provisional": False,
            "legal_basis": "《中华人民共和国行政处罚法》第四十八条",
        },
    ),
    "reputation_restoration": _base(
        legal_basis="《泰安市加强诚信政府建设实施方案》（恢复信誉、消除不良影响）",
        restoration={
            "measures": ["在原公示范围内发布撤销公告", "恢复参加荣誉评选资格", "向原通报范围书面说明情况"],
            "reasons": "失信记录已撤销，据此实施的通报批评等惩戒措施系错误实施。",
        },
    ),
    "repair_decided": _base(
        repair={
            "outcome": "refused",
            "outcome_label": "不予修复",
            "reasons": "最短公示期尚未届满，整改报告尚未通过验收。",
        },
    ),
    "publication_ended": _base(
        publication={"reason": "expired", "reason_label": "公示期届满", "ended_on": date(2027, 11, 2)},
    ),
    "supervision_round_opened": {
        "recipient": RESPONSIBLE_UNIT,
        "definition": {"title": "政务诚信专项督查（半年）", "jurisdiction": "天津市"},
        "legal_basis": "津政发〔2017〕29号 二(一)2（专项督导机制）",
        "round": {
            "title": "2026年上半年政务诚信专项督查",
            "period_label": "2026年1月1日至6月30日",
            "items": {
                "open_records": 2,
                "overdue_explanations": 1,
                "overdue_rectifications": 0,
                "pending_objections": 1,
                "ledger_tasks": 3,
            },
            "records": [
                {"id": "CX-2026-000031", "subject_name": RESPONSIBLE_UNIT["name"], "state_label": "整改中"},
                {
                    "id": "CX-2026-000077",
                    "subject_name": RESPONSIBLE_UNIT["name"],
                    "state_label": "异议处理中",
                },
            ],
        },
        "deadline": {
            "label": "报送自查情况",
            "due_at": datetime(2026, 7, 15, 9, 0, tzinfo=UTC),
            "rule": "自督查通知之日起10个工作日内",
            "explanation": [
                "2026年7月1日（星期三）发出通知，自次日起算",
                "第10个工作日为2026年7月15日（星期三）",
            ],
            "provisional": False,
            "legal_basis": "津政发〔2017〕29号 二(一)2",
        },
    },
    "deadline_changed": _base(
        deadline=RECTIFICATION_DEADLINE
        | {
            "due_at": datetime(2027, 1, 25, 9, 0, tzinfo=UTC),
            "explanation": [
                "异议处理期间（2026年12月28日至2027年1月4日）暂停计算",
                "恢复后顺延，届满日为2027年1月25日（星期一）",
                "2027年节假日安排尚未公布，按周末和法定节假日暂行计算",
            ],
        },
        change={"kind": "resumed", "kind_label": "恢复计算", "reason": "异议处理完毕，维持原记录。"},
    ),
}

VARIANTS: dict[str, list[dict[str, Any]]] = {
    "reminder": [
        {"rung": {"kind": "due", "label": "到期当日提醒"}},
        {"rung": {"kind": "overdue", "label": "逾期提醒"}},
    ],
    "objection_decided": [
        {"objection": {"outcome": "corrected", "outcome_label": "予以更正", "reasons": "金额录入有误。"}},
        {"objection": {"outcome": "revoked", "outcome_label": "予以撤销", "reasons": "判决已被撤销。"}},
    ],
    "repair_decided": [
        {
            "repair": {
                "outcome": "granted",
                "outcome_label": "准予修复",
                "reasons": "整改已验收，最短公示期已满。",
            }
        },
    ],
    "publication_ended": [
        {"publication": {"reason": "repaired", "reason_label": "信用修复", "ended_on": date(2027, 3, 1)}},
        {"publication": {"reason": "revoked", "reason_label": "记录撤销", "ended_on": date(2026, 12, 9)}},
    ],
    "deadline_changed": [
        {"change": {"kind": kind, "kind_label": label, "reason": "见流程记录。"}}
        for kind, label in (
            ("paused", "暂停计算"),
            ("extended", "延长"),
            ("recomputed", "重新核定"),
            ("met", "已办结"),
            ("cancelled", "取消"),
        )
    ],
    "supervision_round_opened": [
        {
            "round": {
                "title": "2026年下半年政务诚信专项督查",
                "period_label": "2026年7月1日至12月31日",
                "items": dict.fromkeys(
                    (
                        "open_records",
                        "overdue_explanations",
                        "overdue_rectifications",
                        "pending_objections",
                        "ledger_tasks",
                    ),
                    0,
                ),
                "records": [],
            }
        },
    ],
}
"""Other branches of some templates: each entry is merged over the notice's sample."""


def sample(name: str) -> dict[str, Any]:
    """A fresh copy of the sample context of the notice ``name``; tests may change it freely."""
    return copy.deepcopy(_SAMPLES[name])


def names() -> list[str]:
    """The notices that have a sample."""
    return sorted(_SAMPLES)


def variants() -> list[tuple[str, dict[str, Any]]]:
    """(name, context) for every extra branch in :data:`VARIANTS`."""
    return [
        (name, sample(name) | copy.deepcopy(extra)) for name, extras in VARIANTS.items() for extra in extras
    ]
