"""Outbound webhooks: events raised from the request's transitions, signed deliveries to a receiver
on loopback, retries with exponential back-off, every attempt recorded, re-sendable by managers."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
import time_machine
from celery import Celery
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations import services
from integrations.models import WebhookDelivery, WebhookEndpoint
from requests_app import lifecycle
from requests_app import services as request_services
from requests_app.models import RequestEvent, Status
from tests.conftest import aware, is_postgres, need
from tests.integrations.receiver import Receiver
from tests.requests_app.sales_factories import acknowledge, file_request, publish, route
from tests.sla_worker_support import RedisServer, Services, database_url, free_port, redis_available, wait_for

SECRET = "a-signing-secret-of-some-length"
T0 = aware(2026, 3, 2, 9, 0)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def loopback_allowed(settings):
    settings.S2O_WEBHOOK_ALLOW_PRIVATE = True
    settings.S2O_WEBHOOK_MAX_ATTEMPTS = 4
    settings.S2O_WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.S2O_SITE_URL = "https://s2o.example.com"


def endpoint_for(receiver: Receiver, manager, *events: str) -> WebhookEndpoint:
    return services.endpoint_create(actor=manager, url=receiver.url, events=list(events or ["submitted"]), secret=SECRET)


def expected_signature(timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def attempt(pk: int, at) -> bool:
    with time_machine.travel(at, tick=False):
        return services.delivery_attempt(pk)


@pytest.mark.django_db
def test_a_submission_is_delivered_signed_with_a_timestamp(loopback_allowed, receiver, manager, rep, customer):
    endpoint_for(receiver, manager)
    req = file_request(rep, customer, title="Bolts & nuts")
    [delivery] = WebhookDelivery.objects.all()

    before = int(time.time())
    assert services.delivery_attempt(delivery.pk) is True

    [hit] = receiver.received
    assert hit.path == "/hooks/s2o"
    assert hit.headers["content-type"] == "application/json"
    assert hit.headers["x-s2o-event"] == "submitted"
    assert before - 1 <= int(hit.headers["x-s2o-timestamp"]) <= int(time.time()) + 1
    assert hit.headers["x-s2o-signature"] == expected_signature(hit.headers["x-s2o-timestamp"], hit.body)
    payload = json.loads(hit.body)
    assert payload["event"] == "submitted"
    assert payload["id"] == hit.headers["x-s2o-event-id"] == str(delivery.event_id)
    assert payload["request"]["reference"] == req.reference
    assert payload["request"]["title"] == "Bolts & nuts"
    assert payload["request"]["url"] == f"https://s2o.example.com/requests/{req.pk}/"

    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_status_code, delivery.attempts) == ("delivered", 200, 1)
    assert [a.status_code for a in delivery.attempt_log.all()] == [200]


@pytest.mark.django_db
def test_a_forged_body_does_not_match_the_signature(loopback_allowed, receiver, manager, rep, customer):
    endpoint_for(receiver, manager)
    file_request(rep, customer)
    services.delivery_attempt(WebhookDelivery.objects.get().pk)

    [hit] = receiver.received
    tampered = hit.body.replace(b'"submitted"', b'"closed"')
    assert hit.headers["x-s2o-signature"] != expected_signature(hit.headers["x-s2o-timestamp"], tampered)
    assert hit.headers["x-s2o-signature"] != expected_signature(str(int(hit.headers["x-s2o-timestamp"]) + 1), hit.body)


@pytest.mark.django_db
def test_a_failing_receiver_is_retried_with_doubling_waits_and_every_answer_recorded(
    loopback_allowed, receiver, manager, rep, customer
):
    receiver.statuses = [500, 503, 200]
    endpoint_for(receiver, manager)
    with time_machine.travel(T0, tick=False):
        file_request(rep, customer)
    pk = WebhookDelivery.objects.get().pk

    assert attempt(pk, T0) is False
    delivery = WebhookDelivery.objects.get(pk=pk)
    assert (delivery.state, delivery.last_status_code, delivery.next_attempt_at) == ("pending", 500, T0 + timedelta(seconds=30))
    assert delivery.last_error == "The receiver answered HTTP 500."
    assert attempt(pk, T0 + timedelta(seconds=29)) is False  # not due yet: no request sent
    assert len(receiver.received) == 1

    assert attempt(pk, T0 + timedelta(seconds=30)) is False
    assert WebhookDelivery.objects.get(pk=pk).next_attempt_at == T0 + timedelta(seconds=30 + 60)
    assert attempt(pk, T0 + timedelta(seconds=90)) is True

    delivery = WebhookDelivery.objects.get(pk=pk)
    assert (delivery.state, delivery.attempts, delivery.last_status_code, delivery.last_error) == ("delivered", 3, 200, "")
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 503, 200]
    assert "maintenance" in delivery.attempt_log.first().response_excerpt
    # The same body each time, signed afresh.
    assert len({hit.body for hit in receiver.received}) == 1


@pytest.mark.django_db
def test_after_the_last_attempt_a_delivery_is_failed_and_never_retried(loopback_allowed, receiver, manager, rep, customer):
    receiver.statuses = [500]
    endpoint_for(receiver, manager)
    with time_machine.travel(T0, tick=False):
        file_request(rep, customer)
    pk = WebhookDelivery.objects.get().pk
    for seconds in (0, 30, 90, 210):
        assert attempt(pk, T0 + timedelta(seconds=seconds)) is False

    delivery = WebhookDelivery.objects.get(pk=pk)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 4, None)
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        assert services.deliveries_reenqueue() == 0
    assert attempt(pk, T0 + timedelta(days=2)) is False
    assert len(receiver.received) == 4


@pytest.mark.django_db
def test_an_unreachable_receiver_is_recorded_as_such(loopback_allowed, manager, rep, customer):
    services.endpoint_create(actor=manager, url=f"http://127.0.0.1:{free_port()}/gone", events=["submitted"], secret=SECRET)
    file_request(rep, customer)
    delivery = WebhookDelivery.objects.get()

    assert services.delivery_attempt(delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.last_status_code is None
    assert "ConnectionRefusedError" in delivery.last_error
    assert delivery.attempt_log.get().error == delivery.last_error


# --------------------------------------------------------------------------------------------------
# Which transitions raise which events


@pytest.mark.django_db
def test_each_transition_raises_its_event_once_for_the_endpoints_that_want_it(
    loopback_allowed, receiver, manager, rep, customer, ops_lead
):
    everything = endpoint_for(receiver, manager, "submitted", "acknowledged", "answered", "breached", "closed")
    only_closed = endpoint_for(receiver, manager, "closed")
    services.endpoint_update(actor=manager, endpoint_id=endpoint_for(receiver, manager, "submitted").pk, url=receiver.url,
                             events=["submitted"], description="", is_active=False)

    req = file_request(rep, customer)
    acknowledge(req, ops_lead)
    route(req, "procurement")
    publish(req, ops_lead)
    request_services.request_close(request_id=req.pk, actor=rep, outcome="lost", reason="Price")

    assert list(everything.deliveries.order_by("pk").values_list("event", flat=True)) == [
        "submitted", "acknowledged", "answered", "closed"
    ]
    assert list(only_closed.deliveries.values_list("event", flat=True)) == ["closed"]
    assert WebhookDelivery.objects.count() == 5  # nothing for the endpoint that is switched off
    closed = everything.deliveries.get(event="closed").payload
    assert closed["details"] == {"outcome": "lost", "reason": "Price"}
    assert closed["request"]["status"] == Status.CLOSED


@pytest.mark.django_db
def test_breached_is_the_first_escalation_of_a_clock_not_every_repeat(loopback_allowed, receiver, manager, rep, customer):
    endpoint = endpoint_for(receiver, manager, "breached")
    req = file_request(rep, customer)
    for seq in (1, 2, 3):
        lifecycle.record_event(req, kind=RequestEvent.Kind.ESCALATION_SENT, message="overdue",
                               data={"clock": "acknowledge", "scope": "", "seq": seq})

    [delivery] = endpoint.deliveries.all()
    assert delivery.payload["details"] == {"clock": "acknowledge", "department": ""}


@pytest.mark.django_db
def test_a_rolled_back_transition_sends_nothing(loopback_allowed, receiver, manager, rep, customer):
    endpoint_for(receiver, manager, "submitted")
    with pytest.raises(RuntimeError), transaction.atomic():
        file_request(rep, customer)
        raise RuntimeError("the submission failed after its event was written")
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_deliveries_carry_nothing_internal_to_operations(loopback_allowed, receiver, manager, rep, customer, ops_lead):
    endpoint = endpoint_for(receiver, manager, "answered")
    req = file_request(rep, customer)
    acknowledge(req, ops_lead)
    publish(req, ops_lead)

    text = json.dumps(endpoint.deliveries.get().payload)
    for internal in ("cost", "notes", "assessment", "deal_value", "target_price"):
        assert internal not in text


# --------------------------------------------------------------------------------------------------
# Where deliveries may go


@pytest.mark.django_db
@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8000/hook", "http://10.0.0.5/hook", "http://172.16.3.4/hook",
    "http://192.168.1.1/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://[fe80::1]/hook", "http://100.64.0.1/hook", "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
])
def test_loopback_private_and_link_local_destinations_are_refused(settings, manager, url):
    settings.S2O_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(Exception) as refused:
        services.endpoint_create(actor=manager, url=url, events=["submitted"])
    assert "webhooks go only to public addresses" in str(refused.value)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "why"), [
    ("ftp://example.com/hook", "Only http:// and https:// URLs"),
    ("file:///etc/passwd", "Only http:// and https:// URLs"),
    ("gopher://example.com:70/", "Only http:// and https:// URLs"),
    ("http://user:secret@93.184.216.34/hook", "no user name or password"),
    ("http:///hook", "no host name"),
])
def test_other_schemes_and_credentials_in_the_url_are_refused(settings, manager, url, why):
    settings.S2O_WEBHOOK_ALLOW_PRIVATE = True  # refused even where private addresses are allowed
    with pytest.raises(Exception) as refused:
        services.endpoint_create(actor=manager, url=url, events=["submitted"])
    assert why in str(refused.value)


@pytest.mark.django_db
def test_a_public_address_is_accepted(settings, manager):
    settings.S2O_WEBHOOK_ALLOW_PRIVATE = False
    endpoint = services.endpoint_create(actor=manager, url="https://93.184.216.34/hooks", events=["closed"])
    assert endpoint.url == "https://93.184.216.34/hooks" and len(endpoint.secret) >= 32


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """The outside world's DNS: `answers[host]` is consumed one answer per lookup."""
    import socket

    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            lookups.append(host)
            address = answers[host].pop(0)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


@pytest.mark.django_db
def test_a_host_that_turns_private_after_registration_is_refused_at_send_time(
    settings, monkeypatch, receiver, manager, rep, customer
):
    settings.S2O_WEBHOOK_ALLOW_PRIVATE = False
    fake_dns(monkeypatch, {"crm.example.net": ["93.184.216.34", "127.0.0.1"]})  # DNS rebinding
    services.endpoint_create(actor=manager, url=f"http://crm.example.net:{receiver.port}/hooks/s2o",
                             events=["submitted"], secret=SECRET)
    file_request(rep, customer)
    delivery = WebhookDelivery.objects.get()

    assert services.delivery_attempt(delivery.pk) is False
    assert receiver.received == []
    delivery.refresh_from_db()
    assert "points into a private, loopback or link-local network (127.0.0.1)" in delivery.last_error


@pytest.mark.django_db
def test_the_connection_goes_to_the_address_that_was_checked_not_to_a_second_lookup(
    loopback_allowed, monkeypatch, receiver, manager, rep, customer
):
    lookups = fake_dns(monkeypatch, {"crm.example.net": ["127.0.0.1", "127.0.0.1"]})
    endpoint = WebhookEndpoint.objects.create(url=f"http://crm.example.net:{receiver.port}/hooks/s2o", events=["submitted"],
                                              secret=SECRET)
    file_request(rep, customer)

    assert services.delivery_attempt(endpoint.deliveries.get().pk) is True
    assert lookups == ["crm.example.net"]  # one lookup: checked and connected to the same address
    assert receiver.received[0].headers["host"] == f"crm.example.net:{receiver.port}"


# --------------------------------------------------------------------------------------------------
# Through a real worker and broker


@pytest.fixture
def worker_services(tmp_path):
    need(redis_available(), "needs a redis-server binary to start a private Redis")
    need(is_postgres(), "needs PostgreSQL (set DATABASE_URL): the worker shares the test database")
    redis = RedisServer(port=free_port(), directory=tmp_path).start()
    (tmp_path / "var").mkdir()
    services_ = Services(
        database_url=database_url(), broker_url=redis.url, mail_dir=tmp_path / "mail", var_dir=tmp_path / "var",
        extra={"S2O_WEBHOOK_ALLOW_PRIVATE": "1", "S2O_WEBHOOK_RETRY_BASE_SECONDS": "1"},
    )
    client = Celery("s2o-test-client", broker=redis.url, set_as_current=False)
    client.conf.update(task_serializer="json", broker_transport_options={"socket_timeout": 2})
    try:
        yield services_, client
    finally:
        services_.stop_all()
        client.close()
        redis.kill()


@pytest.mark.services
@pytest.mark.timeout(180)
@pytest.mark.django_db(transaction=True)
def test_the_worker_retries_with_back_off_until_the_receiver_takes_it(
    loopback_allowed, worker_services, receiver, manager, rep, customer
):
    services_, client = worker_services
    receiver.statuses = [502, 500, 200]
    endpoint_for(receiver, manager, "submitted")
    file_request(rep, customer)
    delivery = WebhookDelivery.objects.get()
    services_.worker()

    client.send_task("integrations.tasks.deliver_webhooks", args=[[delivery.pk]])

    wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).state == "delivered", timeout=60,
             what="the delivery to get through on the third attempt", log=lambda: services_.log("worker"))
    delivery.refresh_from_db()
    attempts = list(delivery.attempt_log.all())
    assert [a.status_code for a in attempts] == [502, 500, 200]
    # Exponential back-off with a 1 s base: about 1 s, then about 2 s between attempts.
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(attempts, attempts[1:], strict=False)]
    assert 0.9 <= gaps[0] < 2.5 and 1.9 <= gaps[1] < 4, gaps
    hit = receiver.received[-1]
    assert hit.headers["x-s2o-signature"] == expected_signature(hit.headers["x-s2o-timestamp"], hit.body)


# --------------------------------------------------------------------------------------------------
# Managers' pages


@pytest.mark.django_db
def test_managers_register_an_endpoint_and_see_its_secret_once(client, settings, manager):
    settings.S2O_WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(manager)
    response = client.post("/integrations/webhooks/new/", {"url": "https://93.184.216.34/s2o", "events": ["answered", "closed"],
                                                          "description": "CRM"})
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["answered", "closed"]
    assert endpoint.secret in response.content.decode()
    assert endpoint.secret not in client.get(f"/integrations/webhooks/{endpoint.pk}/").content.decode()
    assert "https://93.184.216.34/s2o" in client.get("/integrations/webhooks/").content.decode()


@pytest.mark.django_db
def test_a_refused_url_is_explained_next_to_it_and_the_input_kept(client, settings, manager):
    settings.S2O_WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(manager)
    response = client.post("/integrations/webhooks/new/", {"url": "http://192.168.1.20/crm", "events": ["closed"],
                                                          "description": "Intranet CRM"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "webhooks go only to public addresses" in page
    assert 'value="http://192.168.1.20/crm"' in page and 'value="Intranet CRM"' in page
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_a_manager_sees_each_attempt_and_sends_a_delivery_again(
    loopback_allowed, client, receiver, manager, rep, customer
):
    receiver.statuses = [500, 200]
    endpoint = endpoint_for(receiver, manager, "submitted")
    req = file_request(rep, customer)
    original = WebhookDelivery.objects.get()
    services.delivery_attempt(original.pk)
    client.force_login(manager)

    page = client.get(f"/integrations/webhooks/deliveries/{original.pk}/").content.decode()
    assert "HTTP 500" in page and req.reference in page
    response = client.post(f"/integrations/webhooks/deliveries/{original.pk}/resend/")

    copy = WebhookDelivery.objects.exclude(pk=original.pk).get()
    assert response["Location"] == f"/integrations/webhooks/deliveries/{copy.pk}/"
    assert (copy.event_id, copy.payload, copy.resend_of_id, copy.state) == (original.event_id, original.payload, original.pk,
                                                                           "pending")
    assert services.delivery_attempt(copy.pk) is True
    listing = client.get(f"/integrations/webhooks/{endpoint.pk}/").content.decode()
    assert "re-sent" in listing and "HTTP 200" in listing


@pytest.mark.django_db
def test_an_endpoints_deliveries_page_never_counts_them_all(client, manager, django_assert_max_num_queries):
    """Newest first, 25 a page, "1–25 of 1,000+" past a thousand: an endpoint that has sent for
    years costs the same as a new one."""
    endpoint = WebhookEndpoint.objects.create(url="https://93.184.216.34/x", events=["closed"], secret=SECRET)
    start = timezone.now() - timedelta(days=30)
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event="closed", payload={}, created_at=start + timedelta(minutes=i))
        for i in range(1100)
    )
    client.force_login(manager)
    url = f"/integrations/webhooks/{endpoint.pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as read:
        first = client.get(url).content.decode()
    counts = [q["sql"] for q in read.captured_queries if "count(" in q["sql"].lower() and "webhookdelivery" in q["sql"]]
    assert len(counts) == 1 and "LIMIT 1001" in counts[0], counts  # capped, never the whole table
    assert "1–25 of 1,000+ deliveries" in first
    newest = timezone.localtime(start + timedelta(minutes=1099))
    assert newest.strftime("%-d %b %H:%M:%S") in first
    second = client.get(url, {"page": "2"}).content.decode()
    assert "26–50 of 1,000+ deliveries" in second
    assert newest.strftime("%-d %b %H:%M:%S") not in second


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["rep", "ops_lead", "sales_manager"])
def test_only_managers_reach_the_webhook_pages(client, request, persona, manager):
    endpoint = WebhookEndpoint.objects.create(url="https://93.184.216.34/x", events=["closed"], secret=SECRET)
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="closed", payload={})
    client.force_login(request.getfixturevalue(persona))
    for url in ("/integrations/webhooks/", "/integrations/webhooks/new/", f"/integrations/webhooks/{endpoint.pk}/",
                f"/integrations/webhooks/deliveries/{delivery.pk}/"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/integrations/webhooks/deliveries/{delivery.pk}/resend/").status_code == 403
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db
def test_the_sweep_hands_over_deliveries_a_lost_message_left_behind(loopback_allowed, receiver, manager, rep, customer):
    endpoint_for(receiver, manager)
    with time_machine.travel(T0, tick=False):
        file_request(rep, customer)
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert services.deliveries_reenqueue() == 0  # within the grace period its own message may still come
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        assert services.deliveries_reenqueue() == 1
        services.delivery_attempt(WebhookDelivery.objects.get().pk)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        assert services.deliveries_reenqueue() == 0  # delivered: nothing left


@pytest.mark.django_db
def test_a_fault_in_the_webhook_outbox_never_undoes_the_transition(loopback_allowed, receiver, manager, rep, customer,
                                                                     monkeypatch):
    endpoint_for(receiver, manager, "submitted")

    def broken(*args, **kwargs):
        raise RuntimeError("the outbox is broken")

    monkeypatch.setattr(services, "event_payload", broken)
    req = file_request(rep, customer)

    assert type(req).objects.get(pk=req.pk).status == Status.SUBMITTED
    assert not WebhookDelivery.objects.exists()
