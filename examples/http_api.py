"""A caseworker's tool that is not written in Python talks to chengxin over HTTP.

Run: python examples/http_api.py [DATABASE_URL]
It starts the API on a free loopback port (what ``chengxin serve --port N`` does), issues two
tokens (what ``chengxin token create`` does), and then, as plain HTTP calls any language can
make: the court registers and submits a record, the credit office accepts it with ``If-Match``,
and the court reads it back. Prints each answer's status and the record's state.
"""

from __future__ import annotations

import datetime as dt
import socket
import sys
import tempfile
import threading
import time

import httpx
import uvicorn

from workflow import Engine
from workflow.api import create_app

FIELDS = {
    "subject_kind": "government",
    "subject_name": "某县人民政府",
    "subject_code": "11120103MB12345678",
    "responsible_unit": "county-gov",
    "finding_unit": "court-3",
    "source_type": "judgment",
    "document_number": "（2026）津0103民初1234号",
    "finding_date": "2026-05-08",
    "facts": "拖欠中小企业账款，拒不履行生效判决。",
    "domain": "government_debt",
    "severity": "general",
}


def main(url: str) -> str:
    Engine.init(url)[0].close()
    engine = Engine.open(url)
    engine.units.save(
        [{"code": "city", "name": "市人民政府"}]
        + [
            {"code": code, "name": name, "superior": "city"}
            for code, name in (
                ("county-gov", "某县人民政府"),
                ("court-3", "第三中级人民法院"),
                ("credit-office", "市信用办"),
            )
        ]
    )
    week = dt.timedelta(days=7)
    _court, court = engine.tokens.create(person="li.lei", role="recorder", unit="court-3", valid_for=week)
    _office, office = engine.tokens.create(
        person="wang.fang", role="verifier", unit="credit-office", valid_for=week
    )

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
            as_court = {"Authorization": f"Bearer {court}"}
            made = http.post(
                "/records",
                headers=as_court,
                json={"definition": "national", "fields": FIELDS, "submit": True},
            )
            print(made.status_code, made.json()["id"], made.json()["state"], "ETag", made.headers["ETag"])
            rid, seen = made.json()["id"], made.headers["ETag"]
            accepted = http.post(
                f"/records/{rid}/events/accept",
                headers={"Authorization": f"Bearer {office}", "If-Match": seen},
                json={},
            )
            print(accepted.status_code, accepted.json()["state"])
            again = http.post(  # the same If-Match again: the record moved on, so 409
                f"/records/{rid}/events/accept",
                headers={"Authorization": f"Bearer {office}", "If-Match": seen},
                json={},
            )
            print(again.status_code, again.json()["title"])
            state = str(http.get(f"/records/{rid}", headers=as_court).json()["state"])
            print("state:", state)
            return state
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tempfile.mkdtemp()}/example.db")
