"""What people read in S2O's e-mails: plain text that reads as typed, an HTML part that stays
escaped, the reference once in the subject, links that reach the app, and footers that fit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail

from analysis.models import ReminderLedger
from analysis.sla import build_email as build_reminder_email
from analysis.sla import compose
from requests_app import notifications, services
from requests_app.models import Notification, Outcome
from tests.analysis.sla_support import all_day_calendar
from tests.requests_app.sales_factories import file_request, request_in
from tests.sla_worker_support import due_reminder_request

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NASTY_TITLE = "Bolts & nuts for O'Brien <urgent>"


def send_all() -> list[mail.EmailMultiAlternatives]:
    """Send every e-mail owed, in this process, as the worker would."""
    for pk in Notification.objects.exclude(email_template="").filter(email_sent_at__isnull=True).values_list("pk", flat=True):
        notifications.send_notification_email(pk)
    return list(mail.outbox)


def html_part(message) -> str:
    return next(content for content, mimetype in message.alternatives if mimetype == "text/html")


def test_a_title_with_ampersand_quote_and_angle_brackets_reads_as_typed_in_subject_and_text(rep, customer, ops_lead):
    file_request(rep, customer, title=NASTY_TITLE)

    [message] = send_all()
    assert NASTY_TITLE in message.subject
    assert NASTY_TITLE in message.body
    for entity in ("&amp;", "&#x27;", "&lt;", "&gt;", "&quot;"):
        assert entity not in message.subject and entity not in message.body


def test_the_html_part_of_the_same_e_mail_stays_escaped(rep, customer, ops_lead):
    file_request(rep, customer, title=NASTY_TITLE)

    [message] = send_all()
    html = html_part(message)
    assert "Bolts &amp; nuts for O&#x27;Brien &lt;urgent&gt;" in html
    assert "<urgent>" not in html


def test_reminder_and_escalation_texts_read_as_typed_too(rep, customer, ops_lead):
    req = due_reminder_request(rep, customer, all_day_calendar(), reference="S2O-2026-00901")
    req.title = NASTY_TITLE
    req.save(update_fields=["title"])
    for kind, seq, threshold in ((ReminderLedger.Kind.REMINDER, 0, "0.5"), (ReminderLedger.Kind.ESCALATION, 1, "0")):
        ledger = ReminderLedger.objects.create(
            request=req, clock="acknowledge", kind=kind, seq=seq, threshold=threshold, due_at=req.acknowledge_due,
            recipients=[ops_lead.pk],
        )
        message = build_reminder_email(ledger, compose(ledger, now=req.acknowledge_due), [ops_lead])
        if kind == ReminderLedger.Kind.REMINDER:
            assert NASTY_TITLE in message.body
        assert "&amp;" not in message.body and "&#x27;" not in message.body and "&lt;" not in message.body
        assert "<urgent>" not in html_part(message)


@pytest.mark.parametrize("status", ["submitted", "waiting_on_sales", "closed"])
def test_every_subject_names_the_reference_exactly_once(status, rep, customer, ops_lead):
    req = request_in(status, rep=rep, customer=customer, lead=ops_lead)

    messages = send_all()
    assert messages
    for message in messages:
        assert message.subject.count(req.reference) == 1, message.subject


def test_links_in_e_mails_use_the_configured_site_url(rep, customer, ops_lead, settings):
    settings.S2O_SITE_URL = "https://s2o.factory.example"
    req = file_request(rep, customer)

    [message] = send_all()
    link = f"https://s2o.factory.example/requests/{req.pk}/"
    assert link in message.body
    assert f'href="{link}"' in html_part(message)
    assert "127.0.0.1" not in message.body


def site_url_with(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"S2O_SITE_URL", "S2O_HOST", "S2O_PORT", "DEBUG"}}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.S2O_SITE_URL)"],
        cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "s2o.settings", **env}, capture_output=True, text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_site_url_follows_the_host_and_port_dev_py_up_runs_on():
    assert site_url_with() == "http://127.0.0.1:8000"
    assert site_url_with(S2O_PORT="8153") == "http://127.0.0.1:8153"
    assert site_url_with(S2O_HOST="0.0.0.0", S2O_PORT="8101") == "http://localhost:8101"
    assert site_url_with(S2O_PORT="8153", S2O_SITE_URL="https://s2o.example.com/") == "https://s2o.example.com"


def test_in_production_the_site_url_is_s2o_site_url_or_the_first_allowed_host():
    production = {"DEBUG": "0", "SECRET_KEY": "k" * 64, "ALLOWED_HOSTS": ".example.com,s2o.example.com"}
    assert site_url_with(**production) == "https://s2o.example.com"
    assert site_url_with(**production, S2O_SITE_URL="https://ops.example.com") == "https://ops.example.com"


def test_a_site_url_that_is_no_web_address_stops_the_app_at_start():
    clean = {k: v for k, v in os.environ.items() if k != "S2O_SITE_URL"}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**clean, "DJANGO_SETTINGS_MODULE": "s2o.settings", "S2O_SITE_URL": "s2o.example.com"},
    )
    assert done.returncode != 0
    assert "S2O_SITE_URL='s2o.example.com' must start with http:// or https://" in done.stderr


def test_the_reminder_footer_is_only_on_reminders(rep, customer, ops_lead):
    req = file_request(rep, customer)
    [notification] = send_all()
    assert "Reminder e-mails can be turned off" not in notification.body
    assert "Reminder e-mails can be turned off" not in html_part(notification)

    ledger = ReminderLedger.objects.create(
        request=req, clock="acknowledge", kind=ReminderLedger.Kind.REMINDER, seq=0, threshold="0.5",
        due_at=req.acknowledge_due, recipients=[ops_lead.pk],
    )
    reminder = build_reminder_email(ledger, compose(ledger, now=req.acknowledge_due), [ops_lead])
    assert "Reminder e-mails can be turned off in your preferences" in reminder.body


def test_a_withdrawal_tells_the_leads_and_routed_departments_by_e_mail(rep, customer, ops_lead, ops_member, sales_manager):
    from tests.requests_app.sales_factories import route

    req = request_in("in_analysis", rep=rep, customer=customer, lead=ops_lead)
    route(req, "procurement")
    send_all()
    mail.outbox.clear()

    services.request_withdraw(request_id=req.pk, actor=rep, reason="Customer cancelled the project")

    messages = send_all()
    assert sorted(m.to[0] for m in messages) == ["lena@example.com", "paul@example.com"]
    assert all("Withdrawn" in m.subject and "Customer cancelled the project" in m.body for m in messages)
    # The sales manager still sees it in the app, without an e-mail.
    assert Notification.objects.filter(user=sales_manager, kind="closed", email_template="").count() == 1


def test_an_outcome_after_the_answer_tells_operations_by_e_mail(rep, customer, ops_lead):
    req = request_in("answered", rep=rep, customer=customer, lead=ops_lead)
    send_all()
    mail.outbox.clear()

    services.request_close(request_id=req.pk, actor=rep, outcome=Outcome.LOST, reason="Price too high")

    [message] = send_all()
    assert message.to == ["lena@example.com"]
    assert f"[S2O] {req.reference} closed: Lost — Price too high" == message.subject


def test_withdrawing_a_draft_sends_nothing(rep, customer, ops_lead):
    req = request_in("draft", rep=rep, customer=customer, lead=ops_lead)
    services.request_withdraw(request_id=req.pk, actor=rep)
    assert send_all() == []
