"""A schema-driven fuzzer (schemathesis) against the ASGI app, with a bounded budget: whatever
it sends, the API answers without a 5xx, with a documented status and content type, and with a
body that matches the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from support.api import Api

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BUDGET = 12  # examples per operation: the whole run stays within seconds per backend


@pytest.mark.slow
def test_the_api_survives_a_schema_driven_fuzzer(database_url: str) -> None:
    api = Api.create(database_url)
    try:
        api.h.recorded()  # one case to find, so list answers are not all empty
        schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
        headers = api.auth("verifier")  # may read and write: the widest token
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 15
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=BUDGET,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                case.call_and_validate(headers=headers, checks=CHECKS)

            run()
    finally:
        api.client.close()
        api.h.engine.close()
