"""Schemathesis over the API's own OpenAPI schema, against the WSGI app: generated calls (valid and
invalid) to every operation, as Sales and as Operations, on requests in every state. Zero server
errors, and every answer matches the schema (status code, content type, body)."""

from __future__ import annotations

import os
import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from analysis import services as ops
from analysis.models import Decision
from requests_app.models import Status
from tests.integrations.api_support import token_for
from tests.requests_app.sales_factories import request_in

pytestmark = pytest.mark.django_db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
EXAMPLES = int(os.environ.get("S2O_SCHEMATHESIS_EXAMPLES", "12"))

# The references the world below gets: each test runs in its own transaction, so the year's counter
# starts at 1 every time.
YEAR = timezone.localdate().year
REFERENCES = [f"S2O-{YEAR}-{n:05d}" for n in range(1, 7)]
DEPARTMENTS = ["procurement", "stores", "manufacturing", "shipping"]

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


@schema.hook
def before_generate_path_parameters(context, strategy):  # type: ignore[no-untyped-def]
    """Half the calls name a request (and a department) that exists, so the actions run for real."""

    def real(params: dict | None) -> st.SearchStrategy:
        if not params:
            return st.just(params)
        swaps = {}
        if "reference" in params:
            swaps["reference"] = st.sampled_from(REFERENCES)
        if "department" in params:
            swaps["department"] = st.sampled_from(DEPARTMENTS)
        return st.one_of(st.just(params), st.fixed_dictionaries({**{k: st.just(v) for k, v in params.items()}, **swaps}))

    return strategy.flatmap(real)


@pytest.fixture
def world(rep, ops_lead, ops_member, customer, product, settings_rate, in_test_transaction):  # type: ignore[no-untyped-def]
    """Requests of rep in each state (references 00001–00006 in that order), one routed to procurement."""
    for state in (Status.SUBMITTED, Status.WAITING_ON_SALES, Status.IN_ANALYSIS, Status.ANSWERED, Status.CLOSED):
        request_in(state, rep=rep, customer=customer, lead=ops_lead, product=product)
    routed = request_in(Status.SUBMITTED, rep=rep, customer=customer, lead=ops_lead, product=product)
    ops.request_acknowledge(request_id=routed.pk, actor=ops_lead, departments=["procurement"])
    ops.answer_save_draft(request_id=routed.pk, actor=ops_lead, decision=Decision.YES, summary="Yes", justification="",
                          alternatives=[], expected_version=None)
    return {"rep": token_for(rep), "ops_lead": token_for(ops_lead), "ops_member": token_for(ops_member)}


@pytest.fixture
def in_test_transaction():  # type: ignore[no-untyped-def]
    """As Django's test client does: the test's transaction holds the connection, so the end of a
    request must not close it (Django closes a connection it finds outside autocommit)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def settings_rate(settings):  # type: ignore[no-untyped-def]
    settings.S2O_API_RATE = "1000000/min"  # the rate limit has its own tests; here it would only cut the run short


APP = get_wsgi_application()
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("persona", ["rep", "ops_lead", "ops_member"])
def test_the_api_answers_every_generated_call_as_its_schema_says(world, persona):  # type: ignore[no-untyped-def]
    """One test per persona over every operation, so the world is built three times, not a hundred."""
    # identity: the WSGI transport hands back the body as sent, and HTML is gzipped for clients that take it.
    headers = {"Authorization": f"Bearer {world[persona]}", "Accept-Encoding": "identity"}
    failures: list[str] = []
    for operation in OPERATIONS:
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

        @given(case=cases)
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def call(case):  # type: ignore[no-untyped-def]
            case.call_and_validate(app=APP, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}, checks=CHECKS)

        try:
            call()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
