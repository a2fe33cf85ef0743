"""The HTTP API (FastAPI) over the public engine API: ``create_app(engine)``.

A face, like ``workflow.cli``: it authenticates the caller by an API token, scopes what the
caller sees by the unit hierarchy (``access``), checks request bodies against models generated
from the definitions (``schemas``), calls the engine, and turns every ``WorkflowError`` into an
``application/problem+json`` answer (``problems``). It never touches storage. ``chengxin serve``
runs it beside the scheduler.
"""

from __future__ import annotations

from workflow.api.app import create_app

__all__ = ["create_app"]
