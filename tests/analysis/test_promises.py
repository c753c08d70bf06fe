"""Promise kept: answered by the answer-by first promised at acknowledgement, per lead and per
department; an extension is a moved promise, counted apart with how much and why."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from analysis import services
from analysis.metrics.filters import DashboardFilter
from analysis.metrics.promises import Promises, promises
from analysis.models import Assessment
from requests_app import services as sales_services
from requests_app.models import Department, RequestEvent, Role
from tests.analysis.ops_helpers import MONDAY_0900, acknowledge, file_request
from tests.conftest import is_postgres, make_user
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

    for figures in both_ways(PERIOD):
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


def both_ways(f: DashboardFilter, now=NOW) -> list[Promises]:
    """The figures computed live, and on PostgreSQL from the day rollup too."""
    ways = [promises(f, now=now, use_rollup=False)]
    if is_postgres():
        ways.append(promises(f, now=now, use_rollup=True))
    return ways


def rows(figures: Promises) -> tuple:
    return ((figures.overall.kept, figures.overall.counted),
            [(r.label, r.kept, r.counted, r.kept_pct) for r in figures.per_lead],
            [(r.label, r.kept, r.counted, r.kept_pct) for r in figures.per_department])


def test_exactly_on_time_a_minute_late_withdrawn_not_yet_due_and_rerouted_afterwards(rep, ops_lead, customer):
    """Kept = answered at or before the first promise, to the second; a request withdrawn unanswered
    breaks its promise once the promise has passed; a lead no longer named on the acknowledgement
    (the user was deleted) drops out of the per-lead table but not out of the totals."""
    leo = make_user("leo", Role.OPS_LEAD, Role.OPS_MEMBER, departments=("stores",))
    gone = make_user("gone", Role.OPS_LEAD)
    half_hour = timedelta(minutes=30)

    on_time = acknowledge(file_request(rep, customer, now=MONDAY_0900), ops_lead, now=MONDAY_0900 + half_hour)
    publish(on_time, ops_lead, now=on_time.answer_due_promised)  # at the promised instant itself: kept
    Assessment.objects.create(  # shipping brought in after the answer: it shares the kept promise
        request=on_time, department=Department.objects.get(code="shipping"), request_submitted_at=on_time.submitted_at,
        routed_at=MONDAY_0900 + timedelta(days=3), due_at=MONDAY_0900 + timedelta(days=5))

    late = acknowledge(file_request(rep, customer, now=MONDAY_0900), ops_lead, now=MONDAY_0900 + half_hour,
                       departments=("procurement", "manufacturing"))
    services.answer_by_extend(request_id=late.pk, actor=ops_lead, answer_due=late.answer_due + timedelta(days=1),
                              reason="Waiting for the mill", now=MONDAY_0900 + timedelta(days=2))
    publish(late, ops_lead, now=late.answer_due_promised + timedelta(minutes=1))  # by the extension, not the promise

    withdrawn = acknowledge(file_request(rep, customer, now=MONDAY_0900), leo, now=MONDAY_0900 + half_hour,
                            departments=("stores",))
    sales_services.request_withdraw(request_id=withdrawn.pk, actor=rep, reason="Customer went quiet",
                                    now=MONDAY_0900 + timedelta(days=1))

    not_due = acknowledge(file_request(rep, customer, now=NOW - timedelta(days=2)), leo,
                          now=NOW - timedelta(days=2) + half_hour)

    early = acknowledge(file_request(rep, customer, now=MONDAY_0900), gone, now=MONDAY_0900 + half_hour,
                        departments=("manufacturing",))
    publish(early, ops_lead, now=MONDAY_0900 + timedelta(days=1))
    RequestEvent.objects.filter(actor=gone).update(actor=None)  # what deleting the user does to its events

    before = acknowledge(file_request(rep, customer, now=MONDAY_0900 - timedelta(days=14)), ops_lead,
                         now=MONDAY_0900 - timedelta(days=14) + half_hour)  # February: another period
    assert before.submitted_at < PERIOD.start and not_due.answer_due_promised > NOW

    for figures in both_ways(PERIOD):
        assert rows(figures) == (
            (2, 4),  # kept: on time, early; counted: those, late, withdrawn; not yet due: not_due
            [("Lena", 1, 2, 50.0), ("Leo", 0, 1, 0.0)],
            [("Manufacturing", 1, 2, 50.0), ("Procurement", 1, 2, 50.0), ("Shipping", 1, 1, 100.0),
             ("Stores", 0, 1, 0.0)],
        )
    # Once not_due's promise has passed unanswered, it counts against Leo and procurement.
    later = not_due.answer_due_promised + timedelta(seconds=1)
    for figures in both_ways(PERIOD, now=later):
        assert rows(figures)[0] == (2, 5)
        assert rows(figures)[1] == [("Lena", 1, 2, 50.0), ("Leo", 0, 2, 0.0)]
        assert ("Procurement", 1, 3, 33.3) in rows(figures)[2]


@pytest.mark.parametrize("filtered", [False, True])
def test_the_page_shows_the_same_figures_filtered_or_not(client, manager, rep, ops_lead, customer, filtered):
    """Unfiltered, PostgreSQL reads the rollup; a filter (here the request's own priority) reads live."""
    req = acknowledge(file_request(rep, customer, now=MONDAY_0900), ops_lead, now=MONDAY_0900 + timedelta(minutes=30))
    publish(req, ops_lead, now=MONDAY_0900 + timedelta(days=1))
    client.force_login(manager)
    query = {"date_from": "2026-03-01", "date_to": "2026-03-22", **({"priority": req.priority} if filtered else {})}
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("analysis:dashboard"), query).content.decode()
    assert "1 of 1 promise kept" in html
