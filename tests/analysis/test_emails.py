"""The answer e-mail carries the answer: the decision, the summary and every alternative with its
quantity, date, price and conditions, and a link to accept each — never Operations' cost deltas."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from analysis.models import Alternative, Decision
from requests_app import notifications
from requests_app.models import Notification
from tests.analysis.test_answers import WEDNESDAY_1000, alt, assessed, publish  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def answer_email(rep) -> mail.EmailMultiAlternatives:
    notification = Notification.objects.get(user=rep, kind="answer_published")
    mail.outbox.clear()
    assert notifications.send_notification_email(notification.pk) is True
    [message] = mail.outbox
    return message


@pytest.fixture
def answered(assessed, ops_lead, settings):  # noqa: F811
    settings.S2O_SITE_URL = "https://s2o.example.com"
    with time_machine.travel(WEDNESDAY_1000, tick=False):
        publish(
            assessed, ops_lead, summary="Full quantity is late; we can split it.",
            alternatives=[
                alt(quantity=Decimal("300"), delivery_date=date(2026, 4, 1), price=Decimal("12.40"), currency="EUR",
                    conditions="Partial delivery, rest on 20 April", cost_delta=Decimal("800.00"),
                    cost_basis="total", recommended=True),
                alt(quantity=Decimal("500"), delivery_date=date(2026, 4, 20), price=Decimal("11.90"), currency="EUR",
                    conditions="Customer accepts a 3-week delay", cost_delta=Decimal("-150.00"), cost_basis="total"),
            ],
        )
    return assessed


def test_the_answer_e_mail_carries_the_decision_summary_and_every_alternative(answered, rep):
    message = answer_email(rep)
    first, second = Alternative.objects.filter(answer__request=answered).order_by("position")

    assert message.subject == f"[S2O] {answered.reference}: Operations answered — Alternatives"
    body = message.body
    assert "Decision: Alternatives" in body
    assert "Full quantity is late; we can split it." in body
    assert "Alternative 1 (recommended)\n  Quantity: 300 pcs\n  Delivery: 1 Apr 2026\n  Price: 12.40 EUR per unit\n" in body
    assert "Conditions: Partial delivery, rest on 20 April" in body
    assert "Alternative 2\n  Quantity: 500 pcs\n  Delivery: 20 Apr 2026\n  Price: 11.90 EUR per unit\n" in body
    assert "Conditions: Customer accepts a 3-week delay" in body
    assert f"Accept alternative 1: https://s2o.example.com/requests/{answered.pk}/#alternative-{first.pk}" in body
    assert f"Accept alternative 2: https://s2o.example.com/requests/{answered.pk}/#alternative-{second.pk}" in body


def test_the_answer_e_mail_never_shows_operations_cost_deltas(answered, rep):
    message = answer_email(rep)
    html = message.alternatives[0][0]
    for text in (message.body, html):
        assert "800" not in text and "150" not in text
        assert "cost" not in text.lower()


def test_the_html_answer_has_an_accept_link_per_alternative_that_lands_on_its_accept_button(answered, rep, client):
    message = answer_email(rep)
    html = message.alternatives[0][0]
    first, second = Alternative.objects.filter(answer__request=answered).order_by("position")
    for alternative in (first, second):
        assert f'href="https://s2o.example.com/requests/{answered.pk}/#alternative-{alternative.pk}"' in html

    client.force_login(rep)
    page = client.get(f"/requests/{answered.pk}/").content.decode()
    # The anchor the link points at holds that alternative's accept button.
    anchor = page.index(f'id="alternative-{second.pk}"')
    assert page.index(f"/alternatives/{second.pk}/accept/", anchor) < page.index("</form>", anchor)


def test_a_yes_answer_e_mail_offers_to_accept_the_answer(assessed, ops_lead, rep):  # noqa: F811
    with time_machine.travel(WEDNESDAY_1000, tick=False):
        publish(assessed, ops_lead, decision=Decision.YES, summary="All 500 by 1 April.", alternatives=[])

    body = answer_email(rep).body
    assert "Decision: Yes\n" in body
    assert "All 500 by 1 April." in body
    assert "Accept the answer:" in body
    assert "Alternative 1" not in body
