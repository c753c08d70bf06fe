"""My requests: scope, filters, sorting, pagination, due marks, CSV export, fixed query count."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from requests_app.models import Customer, FeasibilityRequest, Priority, Product
from tests.requests_app.sales_factories import acknowledge, file_request

LIST = reverse("requests_app:list")
EXPORT = reverse("requests_app:export")


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def refs(response) -> list[str]:
    return [req.reference for req, _due in response.context["rows"]]


def test_a_rep_sees_own_and_team_requests_not_another_team_s(rep_client, rep, teammate, other_rep, customer, product):
    mine = file_request(rep, customer, product)
    team = file_request(teammate, customer, product)
    other = file_request(other_rep, customer, product)
    teammate_draft = file_request(teammate, customer, product, submit=False)
    shown = {req.pk for req, _ in rep_client.get(LIST).context["rows"]}
    assert shown == {mine.pk, team.pk}
    assert other.pk not in shown and teammate_draft.pk not in shown


def test_a_request_is_found_by_its_reference_as_soon_as_it_is_submitted(rep_client, rep, customer, product):
    submitted = file_request(rep, customer, product)  # nothing has happened to it since
    assert refs(rep_client.get(LIST, {"q": submitted.reference})) == [submitted.reference]


def test_filters_status_customer_priority_dates_and_text(rep_client, rep, ops_lead, customer, product):
    globex = Customer.objects.create(name="Globex")
    widget = Product.objects.create(sku="WDG-7", name="Widget seven")
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=UTC), tick=False):
        march = file_request(rep, customer, product, title="March brackets")
    with time_machine.travel(datetime(2026, 5, 4, 9, tzinfo=UTC), tick=False):
        may = file_request(rep, globex, widget, title="May widgets", priority=Priority.URGENT)
    acknowledge(may, ops_lead)
    assert refs(rep_client.get(LIST, {"status": "in_analysis"})) == [may.reference]
    assert refs(rep_client.get(LIST, {"status": ["in_analysis", "submitted"], "sort": "submitted"})) == [
        march.reference, may.reference
    ]
    assert refs(rep_client.get(LIST, {"customer": "Globex"})) == [may.reference]
    assert refs(rep_client.get(LIST, {"priority": "urgent"})) == [may.reference]
    assert refs(rep_client.get(LIST, {"submitted_from": "2026-04-01"})) == [may.reference]
    assert refs(rep_client.get(LIST, {"submitted_to": "2026-04-01"})) == [march.reference]
    for q in ("wdg-7", "widget seven", "globex", "May widg", may.reference):
        assert refs(rep_client.get(LIST, {"q": q})) == [may.reference], q


def test_sorting_is_whitelisted(rep_client, rep, customer, product):
    a = file_request(rep, customer, product, title="A", deal_value=100)
    b = file_request(rep, Customer.objects.create(name="Zeta"), product, title="B", deal_value=900)
    assert refs(rep_client.get(LIST, {"sort": "submitted"})) == [a.reference, b.reference]
    assert refs(rep_client.get(LIST, {"sort": "-submitted"})) == [b.reference, a.reference]
    assert refs(rep_client.get(LIST, {"sort": "-deal_value"})) == [b.reference, a.reference]
    assert refs(rep_client.get(LIST, {"sort": "reference"})) == [a.reference, b.reference]
    for unknown in ("requested_by__password", "customer"):  # customer: a filter, not a sort (no index orders by a joined name)
        response = rep_client.get(LIST, {"sort": unknown})
        assert response.status_code == 200 and "sort" in response.context["filter"].errors
        assert refs(response) == [b.reference, a.reference]  # newest first, as without a sort


def test_pages_of_25_say_how_many_without_counting_past_1000(rep_client, rep, customer, product):
    for _ in range(27):
        file_request(rep, customer, product)
    first = rep_client.get(LIST)
    assert len(first.context["rows"]) == 25 and first.context["page"].has_next
    assert "1–25 of 27 requests" in first.content.decode()
    second = rep_client.get(LIST, {"page": 2})
    assert len(second.context["rows"]) == 2 and not second.context["page"].has_next
    assert "26–27 of 27 requests" in second.content.decode()
    for nonsense in ("x", "-1", "0", "²", "99"):  # out of range or not a number: the first page
        assert rep_client.get(LIST, {"page": nonsense}).context["page"].number == 1, nonsense


def test_the_due_column_shows_the_running_clock_state_in_business_hours(rep_client, rep, customer, product):
    with time_machine.travel(datetime(2026, 3, 2, 7, tzinfo=UTC), tick=False):  # Mon 08:00 CET
        req = file_request(rep, customer, product)
    assert req.acknowledge_due == datetime(2026, 3, 2, 16, tzinfo=UTC)  # 8 business hours: 17:00 CET
    with time_machine.travel(datetime(2026, 3, 2, 8, tzinfo=UTC), tick=False):
        assert rep_client.get(LIST).context["rows"][0][1].label == "on track"  # 7 business hours left
    with time_machine.travel(datetime(2026, 3, 2, 14, 30, tzinfo=UTC), tick=False):
        rep_client.logout()  # a new session: the frozen clock jumped past the idle lifetime
        rep_client.force_login(rep)
        page = rep_client.get(LIST)
        assert page.context["rows"][0][1].label == "due soon"  # 1.5 business hours left
        assert "due soon · 1.5 business h left" in page.content.decode()
    with time_machine.travel(datetime(2026, 3, 4, 8, tzinfo=UTC), tick=False):
        rep_client.force_login(rep)  # the frozen clock jumped past the session's lifetime
        page = rep_client.get(LIST)
        assert page.context["rows"][0][1].label == "breached"
        assert "breached · overdue 9.0 business h" in page.content.decode()  # Tue 8 h + Wed 08:00–09:00 CET


def test_csv_export_holds_the_filtered_rows(rep_client, rep, customer, product):
    wanted = file_request(rep, customer, product, title="Export me", deal_value=6250)
    file_request(rep, Customer.objects.create(name="Globex"), product, title="Not me")
    response = rep_client.get(EXPORT, {"customer": customer.name})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, *data = rows
    assert header[:5] == ["reference", "title", "status", "outcome", "customer"]
    assert len(data) == 1
    record = dict(zip(header, data[0], strict=True))
    assert record["reference"] == wanted.reference and record["title"] == "Export me"
    assert record["customer"] == "Acme Industrial" and record["part"] == "BRK-100"
    assert record["deal_value"] == "6250.00" and record["status"] == "Submitted" and record["requested_by"] == "Rita"


def test_csv_export_never_leaks_another_team_s_requests(client, rep, other_rep, customer, product):
    file_request(rep, customer, product)
    client.force_login(other_rep)
    rows = list(csv.reader(io.StringIO(b"".join(client.get(EXPORT).streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 1  # the header only


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["rep", "sales_manager", "ops_lead", "ops_member"])
def test_the_list_costs_the_same_queries_for_26_and_52_rows(client, request, who, rep, ops_lead, customer, product,
                                                           django_assert_num_queries):
    from tests.requests_app.sales_factories import route

    user = request.getfixturevalue(who)
    client.force_login(user)

    def add(n: int) -> None:
        for i in range(n):
            req = file_request(rep, customer if i % 2 else Customer.objects.create(name=f"C{FeasibilityRequest.objects.count()}"),
                               product if i % 3 else None)
            route(req, "procurement")

    add(26)  # more than a page: the rows, and the count of the list (capped) for "1–25 of 26"
    client.get(LIST)  # warm-up: session write, etc.
    baseline = count_queries(client, LIST)
    add(26)
    with django_assert_num_queries(baseline):
        response = client.get(LIST)
    assert len(response.context["rows"]) == 25 and "of 52 requests" in response.content.decode()


def test_the_detail_page_costs_a_fixed_number_of_queries(client, rep, ops_lead, customer, product):
    from tests.requests_app.sales_factories import publish

    req = acknowledge(file_request(rep, customer, product), ops_lead)
    publish(req, ops_lead, alternatives=1)
    client.force_login(rep)
    client.get(req.get_absolute_url())
    baseline = count_queries(client, req.get_absolute_url())
    publish_more = FeasibilityRequest.objects.get(pk=req.pk)
    from analysis.decisions import revision_request

    revision_request(request_id=req.pk, actor=rep, reason="more")
    publish(publish_more, ops_lead, alternatives=4)
    assert count_queries(client, req.get_absolute_url()) == baseline


def test_dates_in_the_list_use_the_user_s_zone(rep_client, rep, customer, product):
    from requests_app.models import Profile

    Profile.objects.create(user=rep, time_zone="America/New_York")
    with time_machine.travel(datetime(2026, 3, 2, 15, tzinfo=UTC), tick=False):
        file_request(rep, customer, product)
    assert "2 Mar 2026 10:00" in rep_client.get(LIST).content.decode()
