"""The HTTP API as tests call it: an engine on a fresh database with a unit tree, a token for
each kind of caller, and an in-process ASGI client (Starlette's ``TestClient``).

The unit tree (city → district → department)::

    city ─┬─ hexi-gov ─── hexi-zjw        (the responsible unit of the sample record)
          ├─ nankai-gov ─┬─ nankai-zjw
          │              └─ nankai-credit (a district's credit office)
          ├─ court-3                      (found the sample record)
          ├─ court-1
          └─ credit-office                (the city's credit lead department)
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from support.harness import ORGANISATION, Harness
from workflow.api import create_app

with warnings.catch_warnings():  # Starlette asks for httpx2 at import; the client works the same
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

UNITS = [
    {"code": "city", "name": "市人民政府"},
    {"code": "hexi-gov", "name": "河西区人民政府", "superior": "city"},
    {"code": "hexi-zjw", "name": "河西区住房和建设委员会", "superior": "hexi-gov"},
    {"code": "nankai-gov", "name": "南开区人民政府", "superior": "city"},
    {"code": "nankai-zjw", "name": "南开区住房和建设委员会", "superior": "nankai-gov"},
    {"code": "nankai-credit", "name": "南开区信用办", "superior": "nankai-gov"},
    {"code": "court-3", "name": "第三中级人民法院", "superior": "city"},
    {"code": "court-1", "name": "第一中级人民法院", "superior": "city"},
    {"code": "credit-office", "name": "市信用办", "superior": "city"},
]

CALLERS: dict[str, tuple[str, str, str]] = {
    # name: (person, role, unit)
    "recorder": ("li.lei", "recorder", "court-3"),
    "other_recorder": ("zhou.min", "recorder", "court-1"),
    "verifier": ("wang.fang", "verifier", "credit-office"),
    "district_verifier": ("qian.yu", "verifier", "nankai-credit"),
    "subject": ("zhao.qiang", "subject", "hexi-zjw"),
    "other_subject": ("wu.hao", "subject", "nankai-zjw"),
    "reviewer": ("chen.jie", "reviewer", "court-3"),
    "other_reviewer": ("he.ping", "reviewer", "court-1"),
    "superior": ("ma.lin", "superior", "hexi-gov"),
    "auditor": ("sun.shen", "auditor", "city"),
    "service": ("hr-appraisal", "service", "city"),
}


@dataclass
class Api:
    """An engine, its API app, a client, and a bearer header per caller of ``CALLERS``."""

    h: Harness
    app: FastAPI
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, url: str) -> Api:
        h = Harness.create(url)
        h.engine.units.save(UNITS)
        app = create_app(h.engine, cors=())
        api = cls(h, app, TestClient(app, raise_server_exceptions=False))
        for name, (person, role, unit) in CALLERS.items():
            _info, secret = h.engine.tokens.create(
                person=person, role=role, unit=unit, valid_for=dt.timedelta(days=30)
            )
            api.tokens[name] = secret
        return api

    def auth(self, caller: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[caller]}", **headers}

    def get(self, path: str, caller: str, **params: Any) -> Any:
        return self.client.get(path, headers=self.auth(caller), params=params)

    def post(self, path: str, caller: str, body: Any, **headers: str) -> Any:
        return self.client.post(path, headers=self.auth(caller, **headers), json=body)

    def register(self, caller: str = "recorder", **overrides: Any) -> Any:
        fields = {k: v for k, v in {**ORGANISATION, **overrides}.items() if v is not None}
        return self.post("/records", caller, {"definition": "national", "fields": fields})

    def fire(self, record_id: str, event: str, caller: str, comment: str = "", **payload: Any) -> Any:
        return self.post(
            f"/records/{record_id}/events/{event}", caller, {"payload": payload, "comment": comment}
        )
