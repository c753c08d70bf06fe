"""The rows of Operations' queues (triage and a department's queue), built in Python as the request
list's are (`requests_app.badges`): Django's template engine spent about 0.3 ms on each row, and
these pages show 50. The templates keep the tables' headers and empty states."""

from __future__ import annotations

from django.template import defaultfilters
from django.urls import reverse
from django.utils.safestring import SafeString

from analysis.selectors import DepartmentRow, QueueRow
from requests_app.badges import clock_badge, esc, local_date, sales_action, status_badge

_ROW_DATE = "D j M H:i"


def _time_left(row: QueueRow) -> SafeString:
    action = row.request.awaiting_sales
    return sales_action(action, row.state) if action else clock_badge(row.state)


def _customer(row: QueueRow | DepartmentRow) -> str:
    customer = row.request.customer
    return esc(customer.name) if customer is not None else ""


def _tr(row: QueueRow | DepartmentRow) -> str:
    return '<tr class="row-breached">' if row.breached else "<tr>"


def _button(css: str, url: str, label: str, hidden: str) -> str:
    """A row's action button; `hidden` (escaped) says for screen readers which row it acts on."""
    return f'<a class="btn btn-sm {css}" href="{esc(url)}">{label}<span class="visually-hidden"> {hidden}</span></a>'


def _warning_badges(names: list[str], none: str) -> str:
    if not names:
        return none
    return "".join(f'<span class="badge text-bg-warning">{esc(name)}</span> ' for name in names)


def unacknowledged_row(row: QueueRow, *, can_act: bool, ticked: set[str]) -> SafeString:
    """Triage, waiting for acknowledgement: with a tick box for the bulk form and an Acknowledge
    button for those who may."""
    req = row.request
    reference = esc(req.reference)
    tick = action = ""
    if can_act:
        checked = " checked" if str(req.pk) in ticked else ""
        tick = (
            f'<td class="stack-check"><input class="form-check-input" type="checkbox" name="requests" value="{req.pk}" '
            f'form="bulk-ack" id="tick-{req.pk}" aria-label="Select {reference} for bulk acknowledgement"{checked}>'
            f'<input type="hidden" name="version-{req.pk}" value="{esc(req.version)}" form="bulk-ack"></td>'
        )
        action = _button("btn-primary", reverse("analysis:acknowledge", args=[req.pk]), "Acknowledge", reference)
    return SafeString(  # nosec B703: each value goes through esc() or is markup built here
        f"{_tr(row)}{tick}"
        f'<td class="stack-title text-nowrap"><a href="{esc(req.get_absolute_url())}">{reference}</a></td>'
        f'<td class="text-break stack-title">{esc(req.title)}</td>'
        f'<td data-label="Customer">{_customer(row)}</td>'
        f'<td data-label="Priority">{esc(req.get_priority_display())}</td>'
        f'<td data-label="Submitted">{esc(local_date(req.submitted_at, _ROW_DATE))}</td>'
        f'<td data-label="Acknowledge by">{esc(local_date(row.due, _ROW_DATE))}</td>'
        f'<td data-label="Time left">{_time_left(row)}</td>'
        f'<td class="text-end">{action}</td>'
        "</tr>"
    )


def in_analysis_row(row: QueueRow, *, can_act: bool) -> SafeString:
    """Triage, in analysis: who still owes an assessment, and an Answer button for those who may."""
    req = row.request
    reference = esc(req.reference)
    owed = _warning_badges(row.pending, '<span class="text-success-emphasis"><i class="bi bi-check2-all" '
                                        'aria-hidden="true"></i> all assessed</span>')
    action = ""
    if can_act:
        action = _button("btn-outline-primary", reverse("analysis:answer_compose", args=[req.pk]), "Answer", reference)
    return SafeString(  # nosec B703: each value goes through esc() or is markup built here
        f"{_tr(row)}"
        f'<td class="stack-title text-nowrap"><a href="{esc(req.get_absolute_url())}">{reference}</a></td>'
        f'<td class="text-break stack-title">{esc(req.title)}</td>'
        f'<td data-label="Customer">{_customer(row)}</td>'
        f'<td data-label="Status">{status_badge(req)}</td>'
        f'<td data-label="Answer by">{esc(local_date(row.due, _ROW_DATE))}</td>'
        f'<td data-label="Time left">{_time_left(row)}</td>'
        f'<td data-label="Still owed by">{owed}</td>'
        f'<td class="text-end text-nowrap">{action}</td>'
        "</tr>"
    )


def department_row(row: DepartmentRow) -> SafeString:
    """A department's queue: its assessment's clock, the request's answer-by, what is still missing
    and which other departments have not assessed yet."""
    a, req = row.assessment, row.request
    department = a.department.name
    owner = ""
    if a.owner is not None:
        owner = f'<div class="small text-body-secondary">owner: {esc(a.owner.get_full_name() or a.owner.username)}</div>'
    waiting = ""
    if action := req.awaiting_sales:
        waiting = f'<div class="small">{sales_action(action)}</div>'
    missing = _warning_badges(row.missing, '<span class="text-success-emphasis"><i class="bi bi-check2" '
                                           'aria-hidden="true"></i> nothing</span>')
    others = esc(", ".join(row.others_pending)) if row.others_pending else "—"
    edit = reverse("analysis:assessment_edit", args=[req.pk, a.department.code])
    css, verb = ("btn-outline-primary", "Edit") if a.is_done else ("btn-primary", "Assess")
    return SafeString(  # nosec B703: each value goes through esc() or is markup built here
        f"{_tr(row)}"
        f'<td class="stack-title text-nowrap"><a href="{esc(req.get_absolute_url())}">{esc(req.reference)}</a></td>'
        f'<td class="text-break stack-title">{esc(req.title)}<div class="small text-body-secondary fw-normal">'
        f"{_customer(row)}</div></td>"
        f'<td data-label="Department">{esc(department)}{owner}</td>'
        f'<td data-label="Asked">{esc(defaultfilters.floatformat(req.quantity, "-3"))} {esc(req.unit)} '
        f'by {esc(local_date(req.requested_date, "j M Y"))}</td>'
        f'<td data-label="Due">{esc(local_date(a.due_at, _ROW_DATE))}'
        f'<div>{clock_badge(row.state, department + " assessment")}</div></td>'
        f'<td data-label="Answer by">{esc(local_date(req.answer_due, _ROW_DATE))}{waiting}</td>'
        f'<td data-label="Still missing">{missing}</td>'
        f'<td data-label="Other departments pending">{others}</td>'
        f'<td class="text-end text-nowrap">{_button(css, edit, verb, f"{esc(req.reference)}, {esc(department)}")}</td>'
        "</tr>"
    )
