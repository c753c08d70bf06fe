"""Requests in each state, walked there through the real services and lifecycle."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from analysis.models import Alternative, Answer, Assessment, Decision
from requests_app import lifecycle, services
from requests_app.models import Department, FeasibilityRequest, RequestEvent, Status
from tests.conftest import request_fields

Kind = RequestEvent.Kind


def file_request(
    user, customer, product=None, *, submit: bool = True, now: datetime | None = None, **overrides
) -> FeasibilityRequest:
    data = request_fields(customer, product, **overrides)
    if data.get("product") is None and not data.get("part_description"):
        data["part_description"] = "Custom bracket, drawing attached"
    return services.request_file(actor=user, data=data, token=uuid.uuid4(), submit=submit, now=now).request


def acknowledge(req: FeasibilityRequest, lead, *, now: datetime | None = None) -> FeasibilityRequest:
    with transaction.atomic():
        return lifecycle.transition(req.pk, to=Status.IN_ANALYSIS, kind=Kind.ACKNOWLEDGED, actor=lead, now=now).request


def route(req: FeasibilityRequest, *codes: str) -> None:
    for code in codes:
        Assessment.objects.get_or_create(request=req, department=Department.objects.get(code=code))


def publish(
    req: FeasibilityRequest, lead, *, decision: str = Decision.ALTERNATIVES, alternatives: int = 2, now: datetime | None = None
) -> Answer:
    with transaction.atomic():
        number = req.answers.count() + 1
        answer = Answer.objects.create(
            request=req, number=number, decision=decision, summary=f"Answer {number}", published_by=lead, composed_by=lead
        )
        for i in range(alternatives):
            Alternative.objects.create(
                answer=answer, quantity=Decimal(300 + i * 100), delivery_date=date(2026, 12, 1 + i), position=i,
                recommended=i == 0,
            )
        moved = lifecycle.transition(req.pk, to=Status.ANSWERED, kind=Kind.ANSWER_PUBLISHED, actor=lead, now=now)
        answer.published_at = moved.event.at
        answer.save(update_fields=["published_at"])
    return answer


def request_in(status: str, *, rep, customer, lead, product=None) -> FeasibilityRequest:
    """A request of `rep` in `status`, reached the way the product reaches it."""
    if status == Status.DRAFT:
        return file_request(rep, customer, product, submit=False)
    req = file_request(rep, customer, product)
    if status == Status.SUBMITTED:
        return req
    if status == Status.WAITING_ON_SALES:
        return services.clarification_ask(request_id=req.pk, actor=lead, question="Which alloy?")
    req = acknowledge(req, lead)
    if status == Status.IN_ANALYSIS:
        return req
    if status == Status.ANSWERED:
        publish(req, lead)
        return FeasibilityRequest.objects.get(pk=req.pk)
    if status == Status.CLOSED:
        return services.request_withdraw(request_id=req.pk, actor=rep)
    raise ValueError(status)


def filing_form_data(the_customer, the_product, /, **overrides) -> dict:
    """What the filing form posts for a valid request; override fields to make it invalid."""
    data = {
        "title": "500 brackets by end of month",
        "customer": the_customer.name,  # the picker posts the name (pickers.CUSTOMERS)
        "new_customer": "",
        "product": the_product.sku,
        "part_description": "",
        "quantity": "500",
        "unit": "pcs",
        "requested_date": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "target_price": "12.50",
        "deal_value": "6250",
        "currency": "EUR",
        "priority": "normal",
        "description": "One-off batch.",
        "token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data
