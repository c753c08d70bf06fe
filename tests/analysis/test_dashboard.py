"""The dashboard page, its CSV downloads and JSON twin: who may see it, what the URL filters,
and a query count that does not grow with the data."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from analysis import rollups
from analysis.models import Alternative, Answer, Assessment, ConstraintCategory, Verdict
from requests_app.models import Customer, Department, FeasibilityRequest, Outcome, Status
from tests.analysis.test_metrics import NOW, build_dataset

URL = reverse("analysis:dashboard")
JSON_URL = reverse("analysis:dashboard_json")
PERIOD = {"date_from": "2026-03-01", "date_to": "2026-03-14"}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def dataset(rep, other_rep, team_a, team_b, customer):
    return build_dataset(rep, other_rep, team_a, team_b, customer)


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def rows_of(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with a byte-order mark
    return list(csv.reader(io.StringIO(text[1:])))


def test_anonymous_visitors_are_sent_to_login(client):
    for url in (URL, JSON_URL):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("persona", ["rep", "sales_manager", "ops_member", "ops_lead", "nobody"])
def test_only_managers_may_see_the_dashboard(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403
    assert client.get(JSON_URL).status_code == 403
    assert client.get(URL, {"export": "teams"}).status_code == 403


def test_managers_see_kpis_tables_charts_and_links(manager_client, dataset):
    response = manager_client.get(URL, PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Capability-gap Pareto" in html and "Material availability" in html
    assert 'id="dashboard-data"' in html and "js/dashboard.js" in html and "chart.umd.min.js" in html
    assert "<script>" not in html  # CSP: data only through json_script
    assert dataset["R5"].get_absolute_url() in html  # breached list links to the request
    assert "export=pareto" in html and "date_from=2026-03-01" in html  # CSV links keep the filter
    board = response.context["board"]
    assert board.current.filed == 11 and board.filter.date_to == date(2026, 3, 14)


def test_filters_escape_names_and_keep_the_choice(manager_client, dataset):
    odd = Customer.objects.create(name='<b>Nuts & "Bolts"</b>')
    html = manager_client.get(URL, {**PERIOD, "customer": odd.name}).content.decode()
    # The customer picker (a search box) keeps the chosen name, escaped.
    assert 'value="&lt;b&gt;Nuts &amp; &#34;Bolts&#34;&lt;/b&gt;"' in html
    assert "<b>Nuts" not in html


def test_group_tables_name_everyone_including_a_rep_who_left_sales(manager_client, dataset, rep):
    rep.groups.clear()  # no longer in the rep filter list, still the author of ten requests
    board = manager_client.get(URL, PERIOD).context["board"]
    assert [(g.label, g.requests) for g in board.reps] == [("Rita", 10), ("Olga", 1)]
    assert [(g.label, g.requests) for g in board.teams] == [("Team North", 10), ("Team South", 1)]
    assert [(g.label, g.requests) for g in board.customers] == [("Acme Industrial", 10), ("Bolt Ltd", 1)]


def test_dashboard_defaults_to_the_last_90_days(manager_client, db):
    board = manager_client.get(URL).context["board"]
    assert (board.filter.date_from, board.filter.date_to) == (date(2025, 12, 19), date(2026, 3, 18))


def test_filters_travel_in_the_url(manager_client, dataset, team_b):
    board = manager_client.get(URL, {**PERIOD, "sales_team": team_b.pk}).context["board"]
    assert board.current.filed == 1
    shipping = Department.objects.get(code="shipping")
    board = manager_client.get(URL, {**PERIOD, "department": shipping.pk, "priority": "high"}).context["board"]
    assert board.current.filed == 1


def test_bad_filter_input_is_explained_kept_and_the_default_period_shown(manager_client, dataset):
    response = manager_client.get(URL, {"date_from": "2026-03-14", "date_to": "2026-03-01"})
    assert response.status_code == 200
    assert "The start date must be on or before the end date." in response.content.decode()
    assert response.context["form"]["date_from"].value() == "2026-03-14"
    assert response.context["board"].filter.date_to == date(2026, 3, 18)
    response = manager_client.get(URL, {"customer": "999999"})
    assert response.status_code == 200 and response.context["form"].errors["customer"]


def test_each_table_downloads_as_csv_with_the_page_figures(manager_client, dataset):
    rows = rows_of(manager_client.get(URL, {**PERIOD, "export": "departments"}))
    assert rows[0] == ["department", "routed", "assessed", "median assessment time (h)", "own due met %",
                       "breaches", "CANNOT share %"]
    assert ["Procurement", "3", "2", "6.0", "50.0", "1", "50.0"] in rows
    pareto = rows_of(manager_client.get(URL, {**PERIOD, "export": "pareto"}))
    assert pareto[0] == ["constraint", "blocked", "bent into an alternative", "of which both", "requests affected",
                         "value at stake (EUR)", "without an exchange rate", "cumulative %"]
    assert pareto[1] == ["Material availability", "2", "1", "0", "3", "15000.00", "0", "42.9"]
    assert pareto[2][1:7] == ["1", "3", "1", "3", "10000.00", "1"]  # R5's 3,000 USD has no rate: left out, counted
    teams = rows_of(manager_client.get(URL, {**PERIOD, "export": "teams"}))
    assert teams[1] == ["Team North", "10", "3", "66.7", "33.3", "15.0"]
    kpis = {r[0]: r for r in rows_of(manager_client.get(URL, {**PERIOD, "export": "kpis"}))}
    assert kpis["Time to answer, median"][1:4] == ["12.5", "20.0", "-7.5"]
    breached = rows_of(manager_client.get(URL, {**PERIOD, "export": "breached"}))
    assert [r[0] for r in breached[1:]] == [dataset["R7"].reference, dataset["R5"].reference]
    for table in ("trend", "reps", "customers", "at_risk"):
        assert manager_client.get(URL, {**PERIOD, "export": table}).status_code == 200
    assert manager_client.get(URL, {"export": "nope"}).status_code == 404


def test_json_endpoint_returns_the_same_figures(manager_client, dataset):
    data = manager_client.get(JSON_URL, PERIOD).json()
    kpis = {k["key"]: k for k in data["kpis"]}
    assert kpis["fill_rate"]["value"] == 50.0 and kpis["answer_p90_hours"]["value"] == 18.5
    assert data["pareto"][0]["code"] == "material" and data["pareto"][0]["value_at_stake"] == "15000.00"
    assert data["reporting_currency"] == "EUR" and data["pareto"][1]["unconverted_currencies"] == ["USD"]
    assert len(data["trend"]) == 26
    assert {d["department"] for d in data["departments"]} == {"Procurement", "Manufacturing", "Shipping"}
    assert manager_client.get(JSON_URL, {"date_from": "garbage"}).status_code == 400


def bulk_requests(n: int, rep, team, customer) -> None:
    """n requests of every kind with assessments and alternatives, in the default period."""
    departments = list(Department.objects.all())
    material = ConstraintCategory.objects.get(code="material")
    start = NOW - timedelta(days=60)
    kinds = [
        dict(status=Status.CLOSED, outcome=Outcome.WON, acknowledge_seconds=3600, acknowledge_met=True,
             answer_seconds=7200, answer_met=True, answered_at=NOW - timedelta(days=1)),
        dict(status=Status.IN_ANALYSIS, acknowledge_seconds=3600, acknowledge_met=True, answer_due=NOW - timedelta(days=1)),
        dict(status=Status.SUBMITTED, acknowledge_due=NOW + timedelta(hours=2)),
    ]
    reqs = FeasibilityRequest.objects.bulk_create([
        FeasibilityRequest(reference=f"S2O-B-{i:06d}", title=f"Bulk {i}", customer=customer, quantity=Decimal(1),
                           requested_date=date(2026, 6, 1), deal_value=Decimal(100), requested_by=rep, sales_team=team,
                           submitted_at=start + timedelta(hours=i), **kinds[i % 3])
        for i in range(n)
    ])
    assessments = Assessment.objects.bulk_create([
        Assessment(request=r, request_submitted_at=r.submitted_at, department=departments[i % 4],
                   verdict=Verdict.CANNOT, assessment_seconds=3600, met=True,
                   assessed_at=r.submitted_at, due_at=r.submitted_at)
        for i, r in enumerate(reqs)
    ])
    Assessment.constraints.through.objects.bulk_create([
        Assessment.constraints.through(assessment_id=a.pk, constraintcategory_id=material.pk) for a in assessments
    ])
    answers = Answer.objects.bulk_create([Answer(request=r, decision="alternatives", published_at=NOW) for r in reqs])
    Alternative.objects.bulk_create([
        Alternative(answer=a, quantity=Decimal(1), delivery_date=date(2026, 7, 1), works_around=material) for a in answers
    ])
    rollups.rebuild_constraint_hits()  # bulk writes bypass the services that keep the Pareto's rollup


@pytest.mark.parametrize("size", [6, 120])
def test_query_count_does_not_grow_with_the_data(manager_client, rep, team_a, customer, size,
                                                 django_assert_max_num_queries):
    bulk_requests(size, rep, team_a, customer)
    manager_client.get(URL)  # the first request after login also saves the session
    # Session, user and filter choices first; 2 of them for the teams, reps and customers (from the day
    # rollup, then the first rows' medians), 2 for the promises kept (4 when they were live) and 1 for
    # the Pareto's open improvement actions.
    with django_assert_max_num_queries(15):
        response = manager_client.get(URL)
    assert response.context["board"].current.filed == size
    assert response.context["board"].pareto[0].requests == size
    with django_assert_max_num_queries(15):
        assert manager_client.get(JSON_URL).status_code == 200
    with django_assert_max_num_queries(15):
        assert manager_client.get(URL, {"export": "customers"}).status_code == 200
