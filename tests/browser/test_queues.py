"""Everyone's own work first, in a real browser on a desktop and on a 375 px phone: the rep's home,
the request list, triage and the department queue read without sideways scrolling, with the
notification bell in sight and no serious axe-core violation."""

from __future__ import annotations

import pytest
from django.utils import timezone

from requests_app import services
from requests_app.models import Notification, Status
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, horizontal_overflow
from tests.requests_app.sales_factories import file_request, request_in

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

LONG_TITLE = "Brackets-for-the-new-assembly-line-in-Pilsen-without-any-break-in-this-title"


@pytest.fixture
def rep_world(rep, teammate, ops_lead, customer, product):
    question = file_request(rep, customer, product, title="Which alloy do you need")
    services.clarification_ask(request_id=question.pk, actor=ops_lead, question="6061 or 7075?")
    request_in(Status.ANSWERED, rep=rep, customer=customer, lead=ops_lead)
    file_request(rep, customer, product, title=LONG_TITLE)
    file_request(teammate, customer, product, title="Tom's housings")
    Notification.objects.filter(user=rep).update(read_at=timezone.now())
    Notification.objects.create(user=rep, request=question, kind="comment", message="Operations asked a question")
    return question


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_rep_lands_on_their_own_work(pages, rep, rep_world, viewport) -> None:
    page = pages.open(rep, viewport=viewport)
    page.goto("/")
    page.get_by_role("heading", name="My work").wait_for()
    needs = page.locator("#needs-action")
    assert needs.get_by_role("link", name=f"{rep_world.reference} · Which alloy do you need").is_visible()
    assert needs.get_by_text("reply to Operations' question · waiting since").is_visible()
    assert needs.get_by_text("decide on the answer · waiting since").is_visible()
    assert page.locator("#team-open").get_by_text("Tom's housings").is_visible()
    # The bell and its unread count are in sight without opening the menu.
    assert page.locator("#notification-bell").is_visible() and page.locator("#unread-count").inner_text() == "1"
    assert horizontal_overflow(page) == 0
    assert_accessible(page)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_request_list_reads_without_sideways_scrolling(pages, rep, rep_world, viewport) -> None:
    page = pages.open(rep, viewport=viewport)
    page.goto("/requests/?scope=mine")
    row = page.locator("tbody tr", has_text="Which alloy do you need")
    # Status and Due are on screen, not behind a sideways swipe.
    due = row.get_by_text("reply to Operations' question")
    assert due.is_visible()
    box = due.bounding_box()
    assert box is not None and box["x"] + box["width"] <= viewport["width"]
    assert page.locator("#notification-bell").is_visible()
    assert horizontal_overflow(page) == 0
    assert_accessible(page)
