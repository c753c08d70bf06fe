"""Promise kept: answered by the answer-by first promised at acknowledgement, per lead and per
department; an extension is a moved promise, counted apart with how much and why."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from django.urls import reverse

from analysis import services
from analysis.metrics.filters import DashboardFilter
from analysis.metrics.promises import promises
from requests_app.models import Role
from tests.analysis.ops_helpers import MONDAY_0900, acknowledge, file_request
from tests.conftest import make_user
from tests.requests_app.sales_factories import publish

NOW = MONDAY_0900 + timedelta(days=20)  # Sunday 22 March 2026
PERIOD = DashboardFilter(date_from=date(2026, 3, 1), date_to=date(2026, 3, 22))


def test_kept_broken_and_not_yet_due_per_lead_and_department(client, rep, ops_lead, manager, customer):
    leo = make_user("leo", Role.OPS_LEAD, Role.OPS_MEMBER, departments=("manufacturing",))
    day = timedelta(days=1)
    # Filed Monday 2 March 09:00 Berlin; the normal SLA promises an answer a working week later (Mon 9 March).
    kept = file_request(rep, customer, now=MONDAY_0900)
    acknowledge(kept, ops_lead, now=MONDAY_0900 + timedelta(minutes=30), departments=("procurement",))
    publish(kept, ops_lead, now=MONDAY_0900 + 2 * day)

    extended = file_request(rep, customer, now=MONDAY_0900)
    extended = acknowledge(extended, ops_lead, now=MONDAY_0900 + timedelta(minutes=30),
                           departments=("procurement", "manufacturing"))
    first_promise = extended.answer_due
    services.answer_by_extend(request_id=extended.pk, actor=ops_lead, answer_due=first_promise + timedelta(hours=24),
                              reason="Supplier quote late", now=MONDAY_0900 + 3 * day)
    publish(extended, ops_lead, now=first_promise + timedelta(hours=3))  # by the new answer-by, not the first

    late = file_request(rep, customer, now=MONDAY_0900)
    acknowledge(late, ops_lead, now=MONDAY_0900 + timedelta(minutes=30), departments=("manufacturing",))

    not_due = file_request(rep, customer, now=NOW - 2 * day)
    acknowledge(not_due, leo, now=NOW - 2 * day + timedelta(minutes=30), departments=("procurement",))

    figures = promises(PERIOD, now=NOW)

    assert (figures.overall.kept, figures.overall.counted, figures.overall.kept_pct) == (1, 3, 33.3)
    assert [(r.label, r.kept, r.counted, r.kept_pct) for r in figures.per_lead] == [
        ("Lena", 1, 3, 33.3), ("Leo", 0, 0, None)]
    assert [(r.label, r.kept, r.counted, r.kept_pct) for r in figures.per_department] == [
        ("Manufacturing", 0, 2, 0.0), ("Procurement", 1, 2, 50.0)]
    assert (figures.extensions, figures.extended_requests, figures.median_extension_hours) == (1, 1, 24.0)
    assert [(e.reference, e.hours, e.reason) for e in figures.reasons] == [
        (extended.reference, 24.0, "Supplier quote late")]

    client.force_login(manager)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("analysis:dashboard"), {"date_from": "2026-03-01", "date_to": "2026-03-22"})
    html = page.content.decode()
    assert "Promises kept" in html and "1 of 3 promises kept" in html
    assert "1</strong> extension on 1 request, by 24.0 h (median)" in html
    assert "Supplier quote late" in html
