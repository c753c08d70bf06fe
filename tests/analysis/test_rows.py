"""Operations' queue rows (analysis.rows), word for word: what a lead and a department member read
and the buttons they get."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from analysis import rows
from analysis.models import Assessment
from analysis.selectors import DepartmentRow, QueueRow
from requests_app.clocks import ClockState, ClockStatus
from requests_app.models import Customer, Department, FeasibilityRequest, Priority, Status

DUE = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # Monday 10:00 in Berlin


@pytest.fixture(autouse=True)
def berlin():
    with timezone.override("Europe/Berlin"):
        yield


def request(**fields) -> FeasibilityRequest:
    defaults = {"pk": 12, "reference": "S2O-2026-00012", "title": "Hinges <fast>", "customer": Customer(name="Acme & Co"),
                "priority": Priority.HIGH, "submitted_at": DUE, "version": 3}
    return FeasibilityRequest(**{**defaults, **fields})


def test_a_request_waiting_for_acknowledgement_as_a_lead_sees_it():
    row = QueueRow(request(status=Status.SUBMITTED), ClockState("acknowledge", ClockStatus.BREACHED, DUE, -5400))
    html = rows.unacknowledged_row(row, can_act=True, ticked={"12"})
    assert html == (
        '<tr class="row-breached"><td class="stack-check"><input class="form-check-input" type="checkbox" name="requests" '
        'value="12" form="bulk-ack" id="tick-12" aria-label="Select S2O-2026-00012 for bulk acknowledgement" checked>'
        '<input type="hidden" name="version-12" value="3" form="bulk-ack"></td>'
        '<td class="stack-title text-nowrap"><a href="/requests/12/">S2O-2026-00012</a></td>'
        '<td class="text-break stack-title">Hinges &lt;fast&gt;</td><td data-label="Customer">Acme &amp; Co</td>'
        '<td data-label="Priority">High</td><td data-label="Submitted">Mon 30 Mar 10:00</td>'
        '<td data-label="Acknowledge by">Mon 30 Mar 10:00</td><td data-label="Time left">'
        '<span class="badge text-bg-danger sla-clock" title="Acknowledge due Mon 30 Mar 2026 10:00">'
        '<i class="bi bi-exclamation-triangle-fill" aria-hidden="true"></i> breached · overdue 1.5 business h</span></td>'
        '<td class="text-end"><a class="btn btn-sm btn-primary" href="/ops/requests/12/acknowledge/">'
        'Acknowledge<span class="visually-hidden"> S2O-2026-00012</span></a></td></tr>'
    )
    reader = rows.unacknowledged_row(row, can_act=False, ticked=set())
    assert "checkbox" not in reader and "Acknowledge<" not in reader and '<td class="text-end"></td>' in reader


def test_a_request_in_analysis_says_who_still_owes_an_assessment():
    row = QueueRow(request(status=Status.IN_ANALYSIS, answer_due=DUE),
                   ClockState("answer", ClockStatus.ON_TRACK, DUE, 36000), pending=["Procurement", "R&D"])
    html = rows.in_analysis_row(row, can_act=True)
    assert '<td data-label="Status"><span class="badge text-bg-primary">In analysis</span></td>' in html
    assert ('<td data-label="Still owed by"><span class="badge text-bg-warning">Procurement</span> '
            '<span class="badge text-bg-warning">R&amp;D</span> </td>') in html
    assert 'href="/ops/requests/12/answer/">Answer<span class="visually-hidden"> S2O-2026-00012</span></a>' in html
    row.pending = []
    assert "all assessed" in rows.in_analysis_row(row, can_act=False)
    assert "Answer<" not in rows.in_analysis_row(row, can_act=False)


def test_a_department_row_shows_its_own_clock_and_the_next_step():
    req = request(status=Status.IN_ANALYSIS, quantity="500", unit="pcs", requested_date=date(2026, 4, 1), answer_due=DUE)
    assessment = Assessment(request=req, department=Department(code="procurement", name="Procurement"), due_at=DUE,
                            owner=User(username="pia", first_name="Pia", last_name="Buyer"))
    row = DepartmentRow(assessment, ClockState("department", ClockStatus.DUE_SOON, DUE, 1800), ["price"], ["Shipping", "Stores"])
    html = rows.department_row(row)
    assert html == (
        '<tr><td class="stack-title text-nowrap"><a href="/requests/12/">S2O-2026-00012</a></td>'
        '<td class="text-break stack-title">Hinges &lt;fast&gt;'
        '<div class="small text-body-secondary fw-normal">Acme &amp; Co</div></td>'
        '<td data-label="Department">Procurement<div class="small text-body-secondary">owner: Pia Buyer</div></td>'
        '<td data-label="Asked">500 pcs by 1 Apr 2026</td>'
        '<td data-label="Due">Mon 30 Mar 10:00<div><span class="badge text-bg-warning sla-clock" '
        'title="Procurement assessment due Mon 30 Mar 2026 10:00"><i class="bi bi-hourglass-split" aria-hidden="true"></i> '
        'due soon · 0.5 business h left</span></div></td>'
        '<td data-label="Answer by">Mon 30 Mar 10:00</td>'
        '<td data-label="Still missing"><span class="badge text-bg-warning">price</span> </td>'
        '<td data-label="Other departments pending">Shipping, Stores</td>'
        '<td class="text-end text-nowrap"><a class="btn btn-sm btn-primary" href="/ops/requests/12/assessments/procurement/">'
        'Assess<span class="visually-hidden"> S2O-2026-00012, Procurement</span></a></td></tr>'
    )
    assessment.assessed_at, row.missing, row.others_pending = DUE, [], []
    done = rows.department_row(row)
    assert 'btn-outline-primary" href="/ops/requests/12/assessments/procurement/">Edit<' in done
    assert "nothing</span></td>" in done and '<td data-label="Other departments pending">—</td>' in done
