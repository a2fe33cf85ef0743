"""An embedding service asks whether a subject has an active dishonesty record (信用核查).

Run: python examples/credit_check.py [DATABASE_URL]
Without a URL it uses a throwaway drill database in a temporary folder, records one finding, and
then asks the question an annual-appraisal or honours system would ask.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from zoneinfo import ZoneInfo

from workflow import Actor, Engine, ManualClock

START = dt.datetime(2026, 5, 11, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
RECORDER = Actor(id="li.lei", role="recorder", unit="court-3")
VERIFIER = Actor(id="wang.fang", role="verifier", unit="credit-office")


def main(url: str) -> list[str]:
    Engine.init(url, simulated_start=START)[0].close()
    engine = Engine.open(url, clock=ManualClock(START))
    record = engine.register(
        "national",
        {
            "subject_kind": "government",
            "subject_name": "某县人民政府",
            "subject_code": "11120103MB12345678",
            "responsible_unit": "county-gov",
            "finding_unit": "court-3",
            "source_type": "judgment_defaulter",
            "document_number": "（2026）津0103执567号",
            "finding_date": "2026-05-08",
            "facts": "被列为失信被执行人。",
            "domain": "government_debt",
            "severity": "serious",
        },
        actor=RECORDER,
        submit=True,
    )
    engine.fire(record.id, "accept", actor=VERIFIER)
    engine.fire(record.id, "confirm", actor=VERIFIER, comment="核查属实")

    hits = engine.credit_check(
        requester="honours-system", purpose="2026年度评优评先", subject_code="11120103mb12345678"
    )
    for hit in hits:
        print(f"有效失信记录 active record {hit.id}: {hit.data['subject_name']} — {hit.state_label}")
    engine.close()
    return [hit.id for hit in hits]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(f"sqlite:///{folder}/example.db")
