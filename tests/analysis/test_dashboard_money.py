"""Money on the dashboard is in the reporting currency, converted at the rate in force on each
request's submission day; a missing rate is shown and counted, never mixed. And the page's honesty:
no comparison for snapshots, one unit per chart, a gap for a week with too few answers."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from analysis import metrics
from requests_app.models import ExchangeRate, Outcome, Status
from tests.analysis.test_metrics import NOW, PERIOD, build_dataset, make_request
from tests.conftest import aware, is_postgres

URL = reverse("analysis:dashboard")


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def dataset(rep, other_rep, team_a, team_b, customer):
    return build_dataset(rep, other_rep, team_a, team_b, customer)


def rate(currency: str, day: date, value: str, reporting: str = "EUR") -> None:
    ExchangeRate.objects.create(currency=currency, valid_from=day, rate=Decimal(value), reporting_currency=reporting)


def tooling(f: metrics.DashboardFilter = PERIOD) -> metrics.ParetoRow:
    """The tooling row, computed live and (on PostgreSQL) from the day rollup: the same either way."""
    rows = [metrics.pareto(f, use_rollup=False)] + ([metrics.pareto(f, use_rollup=True)] if is_postgres() else [])
    assert all(r == rows[0] for r in rows)
    return {row.code: row for row in rows[0]}["tooling"]


def test_a_deal_in_another_currency_is_converted_at_the_rate_in_force_on_its_submission_day(dataset):
    # R5 (3,000 USD, open) was submitted on Monday 2 March. The rate from 1 Feb is superseded by the
    # one from 2 March (on the day counts); the one from 3 March is not yet in force.
    rate("USD", date(2026, 2, 1), "0.80")
    rate("USD", date(2026, 3, 2), "0.90")
    rate("USD", date(2026, 3, 3), "0.50")
    row = tooling()
    # R3's 10,000 EUR + 3,000 × 0.90 = 12,700 EUR.
    assert (row.value_at_stake, row.unconverted, row.currency) == (Decimal("12700.00"), 0, "EUR")


def test_a_rate_for_another_reporting_currency_is_never_used(dataset):
    rate("USD", date(2026, 1, 1), "0.75", reporting="GBP")
    row = tooling()
    assert (row.value_at_stake, row.unconverted, row.unconverted_currencies) == (Decimal("10000.00"), 1, ["USD"])


def test_the_conversion_day_is_the_local_submission_day(rep, team_a, customer):
    from analysis.models import ConstraintCategory
    from tests.analysis.test_metrics import alternative

    # 23:30 UTC on Sunday 1 March is 00:30 on Monday 2 March in Berlin: Monday's rate applies.
    req = make_request(customer, rep, team_a, submitted=aware(2026, 3, 1, 23, 30), status=Status.CLOSED,
                       outcome=Outcome.LOST, deal=Decimal("1000"), currency="CHF")
    alternative(req, "tooling")
    assert ConstraintCategory.objects.filter(code="tooling").exists()
    rate("CHF", date(2026, 3, 1), "2")
    rate("CHF", date(2026, 3, 2), "1.5")
    assert tooling().value_at_stake == Decimal("1500.00")


def test_with_no_rate_at_all_the_value_is_missing_not_zero(rep, team_a, customer):
    from tests.analysis.test_metrics import alternative

    req = make_request(customer, rep, team_a, submitted=aware(2026, 3, 2, 10), status=Status.IN_ANALYSIS,
                       deal=Decimal("500"), currency="GBP")
    alternative(req, "tooling")
    row = tooling()
    assert (row.value_at_stake, row.unconverted) == (None, 1)


def test_the_page_says_the_currency_and_flags_missing_rates(client, manager, dataset):
    client.force_login(manager)
    html = client.get(URL, {"date_from": "2026-03-01", "date_to": "2026-03-14"}).content.decode()
    assert "Value at stake (EUR)" in html and "Without an exchange rate" in html
    assert "Requests at stake in USD had no exchange rate in force on their submission day" in html
    assert reverse("analysis:exchange_rates") in html
    rate("USD", date(2026, 1, 1), "0.9")
    html = client.get(URL, {"date_from": "2026-03-01", "date_to": "2026-03-14"}).content.decode()
    assert "had no exchange rate" not in html and "12,700" in html


def test_snapshot_cards_show_no_comparison_with_the_previous_period(client, manager, dataset):
    client.force_login(manager)
    response = client.get(URL, {"date_from": "2026-03-01", "date_to": "2026-03-14"})
    html = response.content.decode()
    assert "+6 vs 0" not in html and "+2 vs 0" not in html  # open now and breached now, against nothing
    kpis = {k.key: k for k in response.context["board"].kpis}
    assert all(kpis[key].change is None for key in ("open_now", "breached_now", "due_soon"))
    assert kpis["answer_median_hours"].change == -7.5  # period figures keep their comparison
    rows = client.get(URL, {"date_from": "2026-03-01", "date_to": "2026-03-14", "export": "kpis"}).content.decode()
    assert "\r\nOpen now,6,,,\r\n" in rows


def test_each_chart_has_one_unit_and_a_thin_week_is_a_gap(client, manager, dataset):
    client.force_login(manager)
    html = client.get(URL, {"date_from": "2026-03-01", "date_to": "2026-03-14"}).content.decode()
    data = json.loads(html.split('<script id="dashboard-data" type="application/json">')[1].split("</script>")[0])
    assert set(data["trend"]) == {"labels", "filed", "median", "answer_met", "ack_met"}
    # The week of 2 March has four answers (R1–R4, median 12.5 h): fewer than five, so no point on the line.
    week = data["trend"]["labels"].index("2026-03-02")
    assert data["trend"]["median"][week] is None
    for canvas in ("chart-trend-filed", "chart-trend-median", "chart-trend-met", "chart-departments-median",
                   "chart-departments-met", "chart-pareto"):
        assert f'id="{canvas}"' in html
    assert "blocked + bent − both = requests affected" in html
