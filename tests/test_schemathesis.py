"""schemathesis against the secretariat's own /openapi.json on a real uvicorn: no 5xx, and every
answer conforms to the documented schema (status codes, content types, bodies).

Bounded: ``ROUNDTABLE_FUZZ_EXAMPLES`` examples per operation (10 in `make test`, 30 per scale
unit in `make fuzz`: 600 at RT_SCALE=20)."""

from __future__ import annotations

import pytest
import schemathesis
from budget import count
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = count(10, "ROUNDTABLE_FUZZ_EXAMPLES", soak=30)


@pytest.fixture(scope="module")
def live_server(shared_server):
    """One server for every operation's test (each fuzzes its own event)."""
    return shared_server


@pytest.fixture
def fuzz_scope(live_server):
    event_id = live_server.create_event("Fuzzed conference")
    return event_id, live_server.token(event_id, ["europe"])


@pytest.fixture
def api_schema(live_server, fuzz_scope):
    return schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_and_never_fails(case, fuzz_scope, live_server):
    event_id, token = fuzz_scope
    if "event_id" in (case.path_parameters or {}):
        case.path_parameters["event_id"] = event_id  # reach past the scope check
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
