"""Human references: S2O-<year>-<5 digits>, gap-free per year and unique when many reps submit
at the same moment (threads, each on its own PostgreSQL connection)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection

from requests_app import permissions, services
from requests_app.models import FeasibilityRequest, ReferenceCounter, Status
from tests.conftest import request_fields
from tests.requests_app.sales_factories import file_request


def test_references_count_up_per_year(rep, customer, product):
    first = file_request(rep, customer, product, now=datetime(2026, 3, 2, 9, tzinfo=UTC))
    second = file_request(rep, customer, product, now=datetime(2026, 3, 2, 10, tzinfo=UTC))
    next_year = file_request(rep, customer, product, now=datetime(2027, 1, 4, 9, tzinfo=UTC))
    assert [first.reference, second.reference, next_year.reference] == ["S2O-2026-00001", "S2O-2026-00002", "S2O-2027-00001"]


def test_the_year_is_the_company_s_local_year(rep, customer, product):
    # 23:30 UTC on New Year's Eve is already 2027 in Berlin.
    req = file_request(rep, customer, product, now=datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert req.reference == "S2O-2027-00001"


def test_a_failed_submission_gives_its_number_back(rep, customer, product):
    draft = file_request(rep, customer, product, submit=False)
    with pytest.raises(permissions.NotAllowed):
        services.request_submit(request_id=draft.pk, actor=customer_user(rep))
    assert file_request(rep, customer, product).reference.endswith("00001")


def customer_user(rep):
    from tests.conftest import make_user

    return make_user("intruder")


@pytest.mark.django_db(transaction=True)
def test_references_are_unique_under_concurrent_submission(postgres_only, rep, customer, product):
    workers = 12
    drafts = [file_request(rep, customer, product, submit=False) for _ in range(workers)]
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def submit(draft_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            services.request_submit(request_id=draft_id, actor=rep)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(d.pk,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    references = sorted(FeasibilityRequest.objects.filter(status=Status.SUBMITTED).values_list("reference", flat=True))
    year = references[0][4:8]
    assert references == [f"S2O-{year}-{n:05d}" for n in range(1, workers + 1)]
    assert ReferenceCounter.objects.get(year=int(year)).last == workers


@pytest.mark.django_db(transaction=True)
def test_a_double_click_racing_itself_files_once(postgres_only, rep, customer, product):
    token = uuid.uuid4()
    barrier = threading.Barrier(2)
    results: list = []

    def post() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(services.request_file(actor=rep, data=request_fields(customer, product), token=token, submit=True))
        except BaseException as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert FeasibilityRequest.objects.count() == 1
    assert sorted(r.created for r in results) == [False, True]
    assert results[0].request.pk == results[1].request.pk
