"""The dashboard's CSV downloads match the page's tables and are safe to open; any date a manager
can type gives a message, never a server error."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from analysis.models import ConstraintCategory
from requests_app.models import Customer, SalesTeam
from tests.analysis.test_dashboard import PERIOD, URL, rows_of
from tests.analysis.test_metrics import NOW, build_dataset

JSON_URL = reverse("analysis:dashboard_json")


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


def page_table(html: str, heading_id: str) -> list[list[str]]:
    """The cells of the first table after the heading with this id, header row first."""
    section = html[html.index(f'id="{heading_id}"'):]
    table = section[section.index("<table"):section.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in rows]


@pytest.mark.parametrize(("table", "heading"), [("departments", "dept-title"), ("teams", "teams-title"),
                                                ("reps", "reps-title"), ("customers", "customers-title")])
def test_a_table_on_the_page_and_its_csv_have_the_same_columns_and_figures(manager_client, dataset, table, heading):
    page = page_table(manager_client.get(URL, PERIOD).content.decode(), heading)
    csv_rows = rows_of(manager_client.get(URL, {**PERIOD, "export": table}))
    assert [h.lower() for h in page[0]] == [h.lower() for h in csv_rows[0]]
    assert [[cell.replace("—", "") for cell in row] for row in page[1:]] == csv_rows[1:]


def test_dashboard_csvs_neutralise_names_that_would_run_as_formulas(manager_client, dataset, customer):
    Customer.objects.filter(pk=customer.pk).update(name='=HYPERLINK("http://evil.example","cust")')
    SalesTeam.objects.filter(name="Team North").update(name="@SUM(1)")
    ConstraintCategory.objects.filter(code="material").update(label="=1+1 X41")
    customers = rows_of(manager_client.get(URL, {**PERIOD, "export": "customers"}))
    assert customers[1][0] == '\'=HYPERLINK("http://evil.example","cust")'
    assert rows_of(manager_client.get(URL, {**PERIOD, "export": "teams"}))[1][0] == "'@SUM(1)"
    assert rows_of(manager_client.get(URL, {**PERIOD, "export": "pareto"}))[1][0] == "'=1+1 X41"
    at_risk = rows_of(manager_client.get(URL, {**PERIOD, "export": "at_risk"}))
    assert at_risk[1][2] == '\'=HYPERLINK("http://evil.example","cust")'
    kpis = {r[0]: r for r in rows_of(manager_client.get(URL, {**PERIOD, "export": "kpis"}))}
    assert kpis["Time to answer, median"][3] == "-7.5"  # a negative number stays a number


@pytest.mark.parametrize("dates", [
    {"date_to": "0001-01-01"}, {"date_to": "9999-12-31"}, {"date_from": "9999-12-01", "date_to": "9999-12-31"},
    {"date_from": "0001-01-01"}, {"date_from": "1999-12-31", "date_to": "2000-01-10"},
])
def test_dates_out_of_range_are_refused_with_a_message_never_a_server_error(manager_client, db, dates):
    page = manager_client.get(URL, dates)
    assert page.status_code == 200
    assert "Choose a date between 1 Jan 2000 and 18 Mar 2027." in page.content.decode()
    assert page.context["board"].filter.date_to == NOW.date()  # the default period meanwhile
    for name, typed in dates.items():
        assert page.context["form"][name].value() == typed  # what the manager typed stays in the field
    response = manager_client.get(JSON_URL, dates)
    assert response.status_code == 400 and response.json()["errors"]
    export = manager_client.get(URL, {**dates, "export": "customers"})
    assert export.status_code == 400 and "Choose a date between" in export.content.decode()


def test_the_earliest_and_latest_dates_allowed_work(manager_client, db):
    assert manager_client.get(URL, {"date_from": "2000-01-01", "date_to": "2000-01-31"}).status_code == 200
    response = manager_client.get(JSON_URL, {"date_from": "2027-01-01", "date_to": "2027-03-18"})
    assert response.status_code == 200 and response.json()["filter"]["date_to"] == "2027-03-18"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # by hand: what a spreadsheet runs as a formula


def test_no_cell_of_any_dashboard_csv_starts_a_formula_whatever_the_names_say(manager_client, dataset):
    """Every table the dashboard exports (taken from the view's list, so a new one is covered), with
    every name a user can type made a formula: customers, teams, departments, constraints, people,
    titles. A plain negative number may stay a number."""
    from django.contrib.auth.models import User

    from analysis.views_dashboard import TABLES
    from requests_app.models import Department, FeasibilityRequest

    for model, field, value in [(Customer, "name", '=HYPERLINK("http://evil.example","c{}")'),
                                (SalesTeam, "name", "@SUM(1)+{}"), (Department, "name", "-cmd {}"),
                                (ConstraintCategory, "label", "+1+{}"), (FeasibilityRequest, "title", "\t=2+{}")]:
        for pk in model.objects.values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(**{field: value.format(pk)})
    User.objects.update(first_name="=1+1", last_name="\rX")

    neutralised = 0
    for table in TABLES:
        response = manager_client.get(URL, {**PERIOD, "export": table})
        assert response.status_code == 200, table
        for row in rows_of(response)[1:]:
            for cell in row:
                assert not cell.startswith(FORMULA_STARTS) or re.fullmatch(r"-\d+(\.\d+)?", cell), (table, cell)
                neutralised += cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS)
    assert neutralised >= 10  # the names did reach the files, made safe
