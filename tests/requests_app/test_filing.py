"""Filing a request from the rep's side: submit, drafts, one-time token, kept input, edits."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from requests_app import permissions, services
from requests_app.models import Attachment, Customer, FeasibilityRequest, Notification, RequestEvent, Status
from tests.requests_app.sales_factories import acknowledge, file_request
from tests.requests_app.sales_factories import filing_form_data as post_data

PDF = b"%PDF-1.4\n%%EOF\n"




@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def test_the_new_request_page_carries_a_one_time_token(rep_client):
    response = rep_client.get(reverse("requests_app:create"))
    assert response.status_code == 200
    assert re.search(r'name="token" value="[0-9a-f-]{36}"', response.content.decode())


def test_submitting_files_the_request_and_shows_the_promise_message(rep_client, rep, ops_lead, customer, product):
    data = post_data(customer, product, attachments=SimpleUploadedFile("drawing.pdf", PDF, content_type="application/pdf"))
    response = rep_client.post(reverse("requests_app:create"), data, follow=True)
    req = FeasibilityRequest.objects.get()
    assert response.redirect_chain[-1][0] == req.get_absolute_url()
    assert "Submitted — Operations will confirm when they will answer" in response.content.decode()
    assert req.status == Status.SUBMITTED
    assert re.fullmatch(r"S2O-\d{4}-00001", req.reference)
    assert req.submitted_at and req.acknowledge_due and req.answer_due
    assert req.requested_by == rep and req.sales_team.name == "Team North"
    attachment = req.attachments.get()
    assert attachment.original_name == "drawing.pdf" and attachment.size == len(PDF)
    assert "drawing" not in attachment.file.name  # stored under a generated name
    assert list(req.events.values_list("kind", flat=True)) == [RequestEvent.Kind.CREATED, RequestEvent.Kind.SUBMITTED]
    note = Notification.objects.get(user=ops_lead)
    assert req.reference in note.message and note.email_template == "notification"
    assert not Notification.objects.filter(user=rep).exists()


def test_the_ops_lead_gets_the_e_mail(rep, ops_lead, customer, product, mailoutbox):
    from requests_app.notifications import send_notification_email

    req = file_request(rep, customer, product)
    note = Notification.objects.get(user=ops_lead)
    assert send_notification_email(note.pk)
    assert mailoutbox[0].to == [ops_lead.email]
    assert req.reference in mailoutbox[0].subject + mailoutbox[0].body


def test_a_repeated_post_of_the_same_form_files_once(rep_client, customer, product):
    data = post_data(customer, product)
    first = rep_client.post(reverse("requests_app:create"), data)
    second = rep_client.post(reverse("requests_app:create"), data, follow=True)
    req = FeasibilityRequest.objects.get()
    assert first.url == req.get_absolute_url()
    assert second.redirect_chain[-1][0] == req.get_absolute_url()
    assert "already sent" in second.content.decode()
    assert req.reference.endswith("00001")


def test_the_token_of_another_user_does_not_reveal_their_request(client, rep, teammate, customer, product):
    token = uuid.uuid4()
    services.request_file(actor=rep, data={**post_data(customer, product), "customer": customer, "product": product,
                                          "quantity": 5, "requested_date": timezone.localdate()}, token=token, submit=True)
    client.force_login(teammate)
    with pytest.raises(permissions.NotAllowed):
        services.request_file(actor=teammate, data={}, token=token, submit=True)


def test_an_invalid_submit_keeps_what_was_typed_and_attached(rep_client, rep, customer, product):
    data = post_data(customer, product, quantity="0", title="Keep this title",
                     attachments=SimpleUploadedFile("drawing.pdf", PDF, content_type="application/pdf"))
    response = rep_client.post(reverse("requests_app:create"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Keep this title" in page
    assert "drawing.pdf" in page and "Still attached" in page
    assert not FeasibilityRequest.objects.exists()
    staged = services.staged_files(token=data["token"], user=rep)
    assert [f.name for f in staged] == ["drawing.pdf"]

    fixed = {**post_data(customer, product, token=data["token"], title="Keep this title"), "keep_staged": [staged[0].key]}
    response = rep_client.post(reverse("requests_app:create"), fixed)
    req = FeasibilityRequest.objects.get()
    assert response.url == req.get_absolute_url()
    assert [a.original_name for a in req.attachments.all()] == ["drawing.pdf"]
    assert req.attachments.get().file.read() == PDF
    assert services.staged_files(token=data["token"], user=rep) == []


def test_an_unticked_staged_file_is_dropped(rep_client, rep, customer, product):
    data = post_data(customer, product, quantity="", attachments=SimpleUploadedFile("a.pdf", PDF))
    rep_client.post(reverse("requests_app:create"), data)
    rep_client.post(reverse("requests_app:create"), post_data(customer, product, token=data["token"]))
    assert not Attachment.objects.exists()


def test_staged_files_are_private_to_their_uploader(rep, teammate, customer, product):
    token = uuid.uuid4()
    services.staging_add(token=token, user=rep, uploads=[SimpleUploadedFile("a.pdf", PDF)])
    assert services.staged_files(token=token, user=teammate) == []
    services.staging_clear(token=token, user=teammate)
    assert [f.name for f in services.staged_files(token=token, user=rep)] == ["a.pdf"]


def test_nothing_is_half_saved_when_filing_fails(rep, customer, product, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("reference service down")

    monkeypatch.setattr(services, "reference_next", broken)
    data = {"customer": None, "new_customer": "Brand New Customer", "product": product, "title": "x",
            "quantity": 1, "requested_date": timezone.localdate()}
    with pytest.raises(RuntimeError):
        services.request_file(actor=rep, data=data, token=uuid.uuid4(), submit=True,
                              uploads=[SimpleUploadedFile("a.pdf", PDF)])
    assert not FeasibilityRequest.objects.exists()
    assert not Customer.objects.filter(name="Brand New Customer").exists()
    assert not Attachment.objects.exists()


def test_a_new_customer_is_created_by_name_and_reused(rep_client, customer, product):
    rep_client.post(reverse("requests_app:create"), post_data(customer, product, customer="", new_customer="Globex  Corp"))
    rep_client.post(reverse("requests_app:create"), post_data(customer, product, customer="", new_customer="globex corp"))
    assert Customer.objects.filter(name__iexact="Globex Corp").count() == 1
    assert FeasibilityRequest.objects.filter(customer__name="Globex Corp").count() == 2


def test_a_draft_has_no_reference_until_submitted(rep_client, rep, ops_lead, customer, product):
    rep_client.post(reverse("requests_app:create"), {**post_data(customer, product), "save_draft": "1"})
    req = FeasibilityRequest.objects.get()
    assert (req.status, req.reference, req.submitted_at) == (Status.DRAFT, None, None)
    assert not Notification.objects.exists()
    response = rep_client.post(reverse("requests_app:submit", args=[req.pk]), follow=True)
    req.refresh_from_db()
    assert req.status == Status.SUBMITTED and req.reference.endswith("00001")
    assert "Submitted — Operations will confirm" in response.content.decode()
    assert Notification.objects.filter(user=ops_lead).count() == 1


def test_edit_keeps_the_input_and_says_so_when_someone_else_saved_first(client, rep, sales_manager, customer, product):
    req = file_request(rep, customer, product)
    url = reverse("requests_app:edit", args=[req.pk])
    base = post_data(customer, product, version=req.version)
    client.force_login(sales_manager)
    assert client.post(url, {**base, "title": "Manager's title"}).status_code == 302
    client.force_login(rep)
    response = client.post(url, {**base, "title": "Rep's title"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "changed by someone else" in page and 'value="Rep&#39;s title"' in page  # the title field keeps it
    req.refresh_from_db()
    assert req.title == "Manager's title"
    assert req.events.filter(kind=RequestEvent.Kind.EDITED).count() == 1
    # Having seen the warning, saving the kept input again is a deliberate overwrite.
    shown_version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert int(shown_version) == req.version
    assert client.post(url, {**base, "title": "Rep's title", "version": shown_version}).status_code == 302
    req.refresh_from_db()
    assert req.title == "Rep's title"


def test_the_priority_is_fixed_once_submitted(rep_client, rep, customer, product):
    req = file_request(rep, customer, product)
    rep_client.post(reverse("requests_app:edit", args=[req.pk]),
                    post_data(customer, product, version=req.version, priority="urgent", title="New"))
    req.refresh_from_db()
    assert (req.title, req.priority) == ("New", "normal")


def test_no_edit_after_acknowledgement(rep_client, rep, ops_lead, customer, product):
    req = acknowledge(file_request(rep, customer, product), ops_lead)
    assert rep_client.get(reverse("requests_app:edit", args=[req.pk])).status_code == 403
    response = rep_client.post(reverse("requests_app:edit", args=[req.pk]), post_data(customer, product, version=req.version))
    assert response.status_code == 403


def test_a_teammate_reads_but_does_not_edit(client, rep, teammate, customer, product):
    req = file_request(rep, customer, product)
    client.force_login(teammate)
    assert client.get(req.get_absolute_url()).status_code == 200
    assert client.get(reverse("requests_app:edit", args=[req.pk])).status_code == 403


def test_withdraw_closes_with_the_reason(rep_client, rep, ops_lead, customer, product):
    req = file_request(rep, customer, product)
    rep_client.post(reverse("requests_app:withdraw", args=[req.pk]), {"reason": "Customer changed plans"})
    req.refresh_from_db()
    assert (req.status, req.outcome, req.outcome_reason) == (Status.CLOSED, "withdrawn", "Customer changed plans")
    assert Notification.objects.filter(user=ops_lead, kind="closed").exists()


def test_a_draft_can_be_withdrawn(rep, customer, product):
    req = file_request(rep, customer, product, submit=False)
    services.request_withdraw(request_id=req.pk, actor=rep)
    req.refresh_from_db()
    assert (req.status, req.outcome, req.reference) == (Status.CLOSED, "withdrawn", None)


def test_won_needs_an_answer_first(rep_client, rep, customer, product):
    req = file_request(rep, customer, product)
    response = rep_client.post(reverse("requests_app:close", args=[req.pk]), {"outcome": "won"}, follow=True)
    assert "Pick an outcome" in response.content.decode()
    rep_client.post(reverse("requests_app:close", args=[req.pk]), {"outcome": "evaporated", "reason": "Project cancelled"})
    req.refresh_from_db()
    assert (req.status, req.outcome) == (Status.CLOSED, "evaporated")


def test_comments_are_added_and_the_other_side_told(rep_client, rep, ops_lead, customer, product):
    req = file_request(rep, customer, product)
    rep_client.post(reverse("requests_app:comment", args=[req.pk]), {"body": "Drawing rev B attached"})
    assert req.comments.get().body == "Drawing rev B attached"
    assert Notification.objects.filter(user=ops_lead, kind="comment").exists()


def test_notifications_list_and_mark_read(client, rep, ops_lead, customer, product):
    file_request(rep, customer, product)
    client.force_login(ops_lead)
    page = client.get(reverse("requests_app:notifications")).content.decode()
    assert "submitted by" in page and 'id="unread-count">1<' in page
    client.post(reverse("requests_app:notifications"))
    assert not Notification.objects.filter(user=ops_lead, read_at__isnull=True).exists()


def test_opening_a_notification_marks_it_read_and_goes_to_the_request(client, rep, ops_lead, customer, product):
    req = file_request(rep, customer, product)
    note = Notification.objects.get(user=ops_lead)
    client.force_login(ops_lead)
    response = client.get(reverse("requests_app:notification_open", args=[note.pk]))
    assert response.url == req.get_absolute_url()
    note.refresh_from_db()
    assert note.read_at is not None


def test_preferences_are_saved(rep_client, rep):
    response = rep_client.post(reverse("requests_app:preferences"),
                               {"time_zone": "America/Chicago", "reminder_emails": "", "morning_digest": "on"})
    assert response.status_code == 302
    rep.profile.refresh_from_db()
    assert (rep.profile.time_zone, rep.profile.reminder_emails, rep.profile.morning_digest) == ("America/Chicago", False, True)


def test_once_acknowledged_the_page_shows_the_promise_in_the_rep_s_zone(client, rep, ops_lead, customer, product):
    from datetime import UTC, datetime

    import time_machine

    from requests_app.models import Profile

    Profile.objects.create(user=rep, time_zone="America/New_York")
    with time_machine.travel(datetime(2026, 3, 2, 7, tzinfo=UTC), tick=False):  # Mon 08:00 Berlin
        req = acknowledge(file_request(rep, customer, product), ops_lead)
        client.force_login(rep)
        page = client.get(req.get_absolute_url()).content.decode()
    # Normal priority: 40 business hours = Mon–Fri → Fri 6 March 17:00 Berlin = 16:00Z = 11:00 in New York.
    assert req.answer_due == datetime(2026, 3, 6, 16, tzinfo=UTC)
    assert "We will analyze and let you know by <strong>Friday 6 March 2026, 11:00 EST</strong>" in page
    assert "left" in page


def test_alternative_accepted_and_declined_are_recorded_through_the_answer(rep, ops_lead, customer, product):
    from requests_app.lifecycle import TransitionError
    from tests.requests_app.sales_factories import publish

    req = acknowledge(file_request(rep, customer, product), ops_lead)
    publish(req, ops_lead)
    with pytest.raises(TransitionError, match="Accept one of the alternatives"):
        services.request_close(request_id=req.pk, actor=rep, outcome="alternative_accepted")
    with pytest.raises(TransitionError, match="Decline on the answer"):
        services.request_close(request_id=req.pk, actor=rep, outcome="declined", reason="Too late")
    with pytest.raises(TransitionError, match="Accept the answer"):
        services.request_close(request_id=req.pk, actor=rep, outcome="won")
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.ANSWERED
    services.request_close(request_id=req.pk, actor=rep, outcome="lost", reason="Went to a competitor")
    req.refresh_from_db()
    assert (req.status, req.outcome, req.outcome_reason) == (Status.CLOSED, "lost", "Went to a competitor")


def test_abandoned_staged_files_are_purged(rep):
    token = uuid.uuid4()
    services.staging_add(token=token, user=rep, uploads=[SimpleUploadedFile("a.pdf", PDF)])
    assert services.staging_purge(older_than=timezone.now() - timedelta(days=1)) == 0
    assert services.staging_purge(older_than=timezone.now() + timedelta(seconds=1)) == 1
    assert services.staged_files(token=token, user=rep) == []


def test_the_hourly_job_purges_staged_files_a_day_after_the_form_was_abandoned(rep, settings):
    import time_machine

    from requests_app.tasks import purge_staged_uploads

    token = uuid.uuid4()
    services.staging_add(token=token, user=rep, uploads=[SimpleUploadedFile("a.pdf", PDF)])
    assert settings.CELERY_BEAT_SCHEDULE["purge-staged-uploads"]["task"] == purge_staged_uploads.name
    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        assert purge_staged_uploads() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert purge_staged_uploads() == 1
    assert services.staged_files(token=token, user=rep) == []


def test_files_added_while_editing_are_attached_and_logged(rep_client, rep, customer, product):
    req = file_request(rep, customer, product)
    data = post_data(customer, product, version=req.version, attachments=SimpleUploadedFile("rev-b.pdf", PDF))
    assert rep_client.post(reverse("requests_app:edit", args=[req.pk]), data).status_code == 302
    assert [a.original_name for a in req.attachments.all()] == ["rev-b.pdf"]
    assert req.events.filter(kind=RequestEvent.Kind.ATTACHMENT_ADDED, message="rev-b.pdf").exists()


def test_editing_cannot_take_a_request_past_ten_files(rep_client, rep, customer, product):
    req = file_request(rep, customer, product)
    services.attachments_add(req=req, actor=rep, uploads=[SimpleUploadedFile(f"sheet-{i}.pdf", PDF) for i in range(9)])
    version = FeasibilityRequest.objects.get(pk=req.pk).version
    two_more = [SimpleUploadedFile("rev-b.pdf", PDF), SimpleUploadedFile("rev-c.pdf", PDF)]

    response = rep_client.post(reverse("requests_app:edit", args=[req.pk]),
                               post_data(customer, product, version=version, attachments=two_more))

    assert response.status_code == 400
    assert "At most 10 files per request: this one has 9." in response.content.decode()
    assert req.attachments.count() == 9
    one_more = post_data(customer, product, version=version, attachments=SimpleUploadedFile("rev-b.pdf", PDF))
    assert rep_client.post(reverse("requests_app:edit", args=[req.pk]), one_more).status_code == 302
    assert req.attachments.count() == 10


def test_the_service_refuses_an_eleventh_file_whoever_calls_it(rep, customer, product):
    req = file_request(rep, customer, product)
    services.attachments_add(req=req, actor=rep, uploads=[SimpleUploadedFile(f"sheet-{i}.pdf", PDF) for i in range(10)])

    with pytest.raises(ValidationError, match="At most 10 files per request"):
        services.attachments_add(req=req, actor=rep, uploads=[SimpleUploadedFile("one-more.pdf", PDF)])
    assert req.attachments.count() == 10
