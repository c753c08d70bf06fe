"""Everyone's own work first, in a real browser on a desktop and on a 375 px phone: the rep's home,
the request list, triage and the department queue read without sideways scrolling, with the
notification bell in sight and no serious axe-core violation."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from analysis import services as analysis_services
from requests_app import services
from requests_app.models import FeasibilityRequest, Notification, Status
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, controls_cut_off, horizontal_overflow
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


@pytest.fixture
def ops_world(rep, ops_lead, ops_member, customer, product):
    """Waiting for acknowledgement: one fresh, one with a long unbroken title. In analysis: one routed
    to procurement, one waiting on Sales."""
    fresh = file_request(rep, customer, product, title="Flanges for the spring batch")
    file_request(rep, customer, product, title=LONG_TITLE)
    for title in ("Routed to procurement", "Waiting on Sales"):
        req = file_request(rep, customer, product, title=title)
        analysis_services.request_acknowledge(request_id=req.pk, actor=ops_lead, departments=["procurement"])
    services.clarification_ask(request_id=req.pk, actor=ops_lead, question="Which alloy?")
    return fresh


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_triage_reads_on_any_screen_and_acknowledges_in_bulk(pages, ops_lead, ops_world, viewport) -> None:
    page = pages.open(ops_lead, viewport=viewport)
    page.goto("/ops/triage/")
    acknowledge = page.get_by_role("link", name=f"Acknowledge {ops_world.reference}")
    assert acknowledge.is_visible()
    box = acknowledge.bounding_box()
    assert box is not None and box["x"] + box["width"] <= viewport["width"]  # no sideways swipe to reach it
    assert page.get_by_text("reply to Operations' question · waiting since").is_visible()
    assert page.locator("#notification-bell").is_visible()
    assert horizontal_overflow(page) == 0
    assert_accessible(page)

    page.get_by_label(f"Select {ops_world.reference} for bulk acknowledgement").check()
    page.locator("#bulk-ack").get_by_label("Procurement").check()
    page.get_by_role("button", name="Acknowledge ticked requests").click()
    page.get_by_text(f"Acknowledged and routed (1): {ops_world.reference}.").wait_for()
    assert FeasibilityRequest.objects.get(pk=ops_world.pk).status == Status.IN_ANALYSIS
    assert horizontal_overflow(page) == 0
    assert_accessible(page)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_department_queue_reads_on_any_screen(pages, ops_member, ops_world, viewport) -> None:
    page = pages.open(ops_member, viewport=viewport)
    page.goto("/ops/department/")
    assess = page.get_by_role("link", name="Assess").first
    assert assess.is_visible()
    box = assess.bounding_box()
    assert box is not None and box["x"] + box["width"] <= viewport["width"]
    page.get_by_label("Due state").select_option("paused")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    assert page.locator("#dept-to-assess tbody tr").count() == 1
    assert page.locator("#dept-to-assess").get_by_text("reply to Operations' question").is_visible()
    assert horizontal_overflow(page) == 0
    assert_accessible(page)


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("queue", ["/ops/triage/", "/ops/department/"])
def test_the_queue_filters_read_whole_on_a_desk_and_a_phone(pages, ops_lead, ops_member, ops_world, queue, width) -> None:
    """At 1280 px the Sort select showed "Due s": a select in a grid column narrower than its choices."""
    page = pages.open(ops_lead if queue == "/ops/triage/" else ops_member, viewport={"width": width, "height": 900})
    page.goto(queue)
    page.locator("#queue-filter .ts-wrapper").wait_for()  # the customer picker is set up
    assert controls_cut_off(page, "#queue-filter") == []
    sort = page.get_by_label("Sort").bounding_box()
    assert sort is not None and sort["width"] > 0 and sort["x"] >= 0 and sort["x"] + sort["width"] <= width


def test_triage_filters_by_a_customer_picked_by_search(pages, ops_lead, ops_world, rep, product) -> None:
    from requests_app.models import Customer

    globex = Customer.objects.create(name="Globex Tooling", code="GBX")
    file_request(rep, globex, product, title="Housings for Globex")
    page = pages.open(ops_lead)
    page.goto("/ops/triage/")
    page.locator("#id_customer-ts-control").click()
    page.keyboard.type("gbx")
    page.locator(".ts-dropdown:visible .option.active", has_text="Globex Tooling").wait_for()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"/ops/triage/\?.*customer=Globex\+Tooling"))
    rows = page.locator("#triage-unacknowledged tbody tr")
    assert rows.count() == 1 and "Housings for Globex" in rows.inner_text()
    assert page.locator("#queue-filter .ts-wrapper .item").inner_text() == "Globex Tooling"  # the pick stays shown
