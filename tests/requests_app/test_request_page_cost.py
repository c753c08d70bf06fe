"""The request page costs a fixed number of queries whatever its history; the lists' query counts do not
grow with their rows; what every page reads (roles, navigation, unread notifications) is read once."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analysis.models import Assessment, ConstraintCategory, ImprovementAction, Verdict
from requests_app.models import Attachment, Comment, Department, RequestEvent
from tests.requests_app.sales_factories import acknowledge, file_request, publish

# At most 10 queries for every reader, whatever the request's history: the session, the user (roles,
# profile and unread count with it), the request, its assessments (constraints joined), the
# improvement actions on what blocked it (only when a department said CANNOT), its answers
# (alternatives joined), the assessments' history, events, comments and attachments. The similar
# earlier requests and the forecast are loaded after the page, from their own URLs.
MAX_REQUEST_PAGE_QUERIES = 10


def long_history(rep, ops_lead, customer, product, *, rounds: int):
    """A request with `rounds` answers (each with 4 alternatives, a revision between them),
    every department's assessment with constraints, and `rounds` × 5 comments and 3 attachments."""
    from analysis.decisions import revision_request

    req = acknowledge(file_request(rep, customer, product), ops_lead)
    limits = list(ConstraintCategory.objects.all()[:3])
    for i, department in enumerate(Department.objects.all()):
        verdict = Verdict.CANNOT if i == 0 else Verdict.CAN_WITH_CONDITIONS  # an action on what blocked it shows
        assessment = Assessment.objects.create(request=req, department=department, verdict=verdict,
                                               assessed_by=ops_lead, notes="Tight but possible")
        assessment.constraints.set(limits)
    for round_ in range(rounds):
        for i in range(5):
            Comment.objects.create(request=req, author=rep if i % 2 else ops_lead, body=f"Round {round_} note {i}")
            RequestEvent.objects.create(request=req, kind=RequestEvent.Kind.COMMENTED, actor=rep, message="note")
        for i in range(3):
            Attachment.objects.create(request=req, file=f"attachments/drawing-{round_}-{i}.txt", size=12, uploaded_by=rep,
                                      original_name=f"drawing-{round_}-{i}.txt", content_type="text/plain")
        publish(req, ops_lead, alternatives=4)
        if round_ < rounds - 1:
            revision_request(request_id=req.pk, actor=rep, reason=f"Revise {round_}")
    return req


def queries_of(client, url: str) -> list[str]:
    client.get(url)  # warm: the session's last-seen write, caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_the_request_page_reads_a_fixed_number_of_queries_with_a_long_history(client, rep, ops_lead, customer, product):
    short = long_history(rep, ops_lead, customer, product, rounds=1)
    long = long_history(rep, ops_lead, customer, product, rounds=6)
    ImprovementAction.objects.create(constraint=ConstraintCategory.objects.first(), title="Second press shift",
                                     owner=ops_lead, created_by=ops_lead, target_date=date(2027, 3, 1),
                                     expected_effect="Press capacity no longer blocks 500+ pcs")
    for viewer in (rep, ops_lead):
        client.force_login(viewer)
        few, many = queries_of(client, short.get_absolute_url()), queries_of(client, long.get_absolute_url())
        assert len(many) == len(few), "\n".join(many)
        assert len(many) <= MAX_REQUEST_PAGE_QUERIES, f"{viewer}: {len(many)} queries\n" + "\n".join(many)
        body = client.get(long.get_absolute_url()).content.decode()
        assert "Round 5 note 4" in body and "drawing-5-2.txt" in body and "Answer 6" in body
        assert "Second press shift" in body  # the action on what blocked it
    assert "Similar earlier requests" in body  # Operations' panel, filled after the page


def test_a_draft_page_reads_no_more_than_a_request_with_history(client, rep, customer, product):
    draft = file_request(rep, customer, product, submit=False)
    client.force_login(rep)
    sql = queries_of(client, draft.get_absolute_url())
    assert len(sql) <= MAX_REQUEST_PAGE_QUERIES, "\n".join(sql)
    body = client.get(draft.get_absolute_url()).content.decode()
    assert "Similar earlier requests" in body and "When to expect an answer" in body


def test_roles_navigation_and_unread_count_are_read_once_per_page(client, rep, customer, product):
    client.force_login(rep)
    sql = queries_of(client, reverse("requests_app:list"))
    groups = [q for q in sql if "auth_group" in q]
    unread = [q for q in sql if "requests_app_notification" in q]
    assert len(groups) == 1, "\n".join(groups)
    assert len(unread) == 1, "\n".join(unread)


def test_the_notification_page_costs_the_same_for_30_and_3000(client, rep, django_assert_num_queries):
    from requests_app.models import Notification

    def notify(n: int) -> None:
        Notification.objects.bulk_create(Notification(user=rep, kind="info", message="Hello") for _ in range(n))

    client.force_login(rep)
    notify(30)
    baseline = len(queries_of(client, reverse("requests_app:notifications")))
    notify(2970)
    with django_assert_num_queries(baseline):
        assert client.get(reverse("requests_app:notifications")).status_code == 200


def test_the_page_user_carries_exactly_their_roles_and_their_own_unread_count(rep, ops_lead, nobody):
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from requests_app import roles
    from requests_app.auth import UNREAD_ATTR, user_with_page_facts
    from requests_app.models import Notification

    ops_lead.groups.add(Group.objects.create(name="Some other group"))  # not an S2O role: ignored
    for user, read in [(ops_lead, None), (ops_lead, None), (ops_lead, timezone.now()), (rep, None)]:
        Notification.objects.create(user=user, kind="test", message="note", read_at=read)
    lead = user_with_page_facts(ops_lead.pk)
    assert roles.user_roles(lead) == {"ops_lead", "ops_member"}
    assert getattr(lead, UNREAD_ATTR) == 2
    seller = user_with_page_facts(rep.pk)
    assert roles.user_roles(seller) == {"sales_rep"}
    assert getattr(seller, UNREAD_ATTR) == 1
    no_one = user_with_page_facts(nobody.pk)
    assert roles.user_roles(no_one) == frozenset()
    assert getattr(no_one, UNREAD_ATTR) == 0
