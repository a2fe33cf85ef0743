"""Sample cases and people for tests and benchmarks of chengxin and of services that embed it.

A dishonesty record of an organisation and one of a civil servant on the ``national``
definition, with the actors who move them, as plain data: chengxin's own tests, its benchmarks
and an embedding service's tests start from the same facts. Nothing here runs on import, and
nothing in the engine uses it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final
from zoneinfo import ZoneInfo

from workflow.core.values import Actor

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
MONDAY: Final = dt.datetime(2026, 5, 11, 9, 0, tzinfo=SHANGHAI)  # a working Monday, before any deadline

ORGANISATION: Final[dict[str, Any]] = {
    "subject_kind": "department",
    "subject_name": "某区住房和建设委员会",
    "subject_code": "91110000600037341L",
    "responsible_unit": "hexi-zjw",
    "superior_unit": "hexi-gov",
    "finding_unit": "court-3",
    "source_type": "judgment",
    "document_number": "（2026）津0103民初1234号",
    "finding_date": "2026-05-08",
    "facts": "拖欠工程款，拒不履行生效判决。",
    "domain": "procurement",
    "severity": "general",
}
"""A department that did not pay a contractor after a judgment (一般, found on 2026-05-08)."""

PERSON_ID: Final = "11010519491231002X"
PERSON: Final[dict[str, Any]] = {
    **ORGANISATION,
    "subject_kind": "civil_servant",
    "subject_name": "张某",
    "subject_code": None,
    "subject_id_number": PERSON_ID,
    "employer": "某区住房和建设委员会",
    "source_type": "disciplinary_sanction",
    "disciplinary_sanction": "demerit",
}
"""A civil servant given a demerit (记过); ``subject_code`` None stands for no code (leave it out)."""

RECORDER: Final = Actor(id="li.lei", role="recorder", unit="court-3")
VERIFIER: Final = Actor(id="wang.fang", role="verifier", unit="credit-office")
SUBJECT: Final = Actor(id="zhao.qiang", role="subject", unit="hexi-zjw")
REVIEWER: Final = Actor(id="chen.jie", role="reviewer", unit="court-3")
THIRD_PARTY: Final = Actor(id="sun.li", role="third_party", unit="public")
