"""Pages as HTML: the Jinja environment of the console, with autoescaping on for every template.

Everything a person typed (facts, comments, names) reaches a page only through ``{{ … }}``,
which escapes it; no template marks user text ``|safe``. Times are shown in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

SHANGHAI = ZoneInfo("Asia/Shanghai")
HERE = Path(__file__).parent

ROLE_LABELS = {
    "recorder": "记录产生部门 recorder",
    "verifier": "信用牵头部门 verifier",
    "subject": "责任单位 responsible unit",
    "reviewer": "认定单位复核 reviewer",
    "superior": "上级主管单位 superior",
    "auditor": "审计 auditor",
}


def shown_time(value: Any) -> str:
    """An aware datetime (or its ISO text) in Shanghai time, to the minute."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        return str(value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"))
    return "" if value is None else str(value)


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = shown_time
    env.globals["role_label"] = lambda role: ROLE_LABELS.get(role, role)
    return env


ENV = _environment()


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The template ``template`` rendered with ``context``, as an HTML answer that no cache keeps."""
    context.setdefault("session", None)
    context.setdefault("title", "诚信 chengxin")
    html = ENV.get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    # no script runs on a console page except none at all: every page works without JavaScript
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return response
