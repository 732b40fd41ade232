"""Property-based API tests generated from the published OpenAPI spec (schemathesis, in-process
against the ASGI app): no 5xx, responses conform to the documented status codes, content types
and schemas. Bounded to a few examples per operation so the whole run stays well under 60 s."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.service.conftest import Demo

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = 15


def test_api_conforms_to_its_spec(demo: Demo) -> None:
    """Every operation of the spec, a bounded number of generated requests each (as admin, who
    may call every endpoint); jobs are only queued (no worker) so no simulation starts."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", demo.client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: dict[str, str] = {}
    runner, demo.ctx.runner = demo.ctx.runner, None
    try:
        for operation in operations:
            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def check(case: Any) -> None:
                case.call_and_validate(headers=demo.headers("admin"), checks=CHECKS)

            try:
                check()
            except Exception as exc:  # collect every operation's failure
                failures[operation.label] = str(exc)[:2000]
    finally:
        demo.ctx.runner = runner
    detail = "\n\n".join(f"{k}: {v}" for k, v in failures.items())
    assert not failures, f"{detail}\nFAILED: {', '.join(failures)}"
