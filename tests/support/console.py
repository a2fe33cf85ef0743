"""The web console as tests use it: the API's engine and unit tree (``support.api``), a console
account for each kind of person, and a client that signs in and submits forms with the CSRF
token it finds on the page."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from support.api import CALLERS, UNITS
from support.harness import Harness
from workflow.api import create_app
from workflow.console import mount

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Console:
    """An engine, the API app with the console mounted, and a signed-in client per person."""

    h: Harness
    app: FastAPI
    clients: dict[str, TestClient] = field(default_factory=dict)

    @classmethod
    def create(cls, url: str) -> Console:
        h = Harness.create(url)
        h.engine.units.save(UNITS)
        for name, (person, role, unit) in CALLERS.items():
            if role != "service":
                h.engine.accounts.create(name=name, password=PASSWORD, person=person, roles=[role], unit=unit)
        return cls(h, mount(create_app(h.engine, cors=())))

    def client(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=True, base_url="https://testserver")

    def signed_in(self, name: str) -> TestClient:
        if name not in self.clients:
            client = self.client()
            answer = client.post(
                "/console/sign-in", data={"name": name, "password": PASSWORD}, follow_redirects=False
            )
            assert answer.status_code == 303, answer.text
            self.clients[name] = client
        return self.clients[name]

    def get(self, name: str, path: str, **params: Any) -> Any:
        return self.signed_in(name).get(path, params=params)

    def csrf(self, name: str) -> str:
        found = _CSRF.search(self.get(name, "/console/").text)
        assert found, "no CSRF token on the page"
        return found.group(1)

    def fire(
        self, name: str, record_id: str, event: str, comment: str = "", files: Any = None, **fields: Any
    ) -> Any:
        data = {"csrf": self.csrf(name), "comment": comment, **fields}
        return self.signed_in(name).post(
            f"/console/cases/{record_id}/events/{event}", data=data, files=files, follow_redirects=False
        )

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.h.engine.close()
