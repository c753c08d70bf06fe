"""Whole journeys in a real browser, each persona in their own browser context, on a frozen clock.

A request goes from the rep's filing page (with a drawing uploaded through the page) to the
operations lead's promise and routing, two departments' assessments, an answer with two
alternatives, the rep's one-click acceptance and the manager's dashboard; a clarification round
pauses and resumes the answer clock as the pages say; two leads saving the same draft answer and a
rep's invalid filing keep what was typed. Every expectation is what a user reads on the page,
written by hand: the times follow from the default calendar (Mon–Fri 08:00–12:00 and 13:00–17:00
in Berlin) and the default policy of a normal request (acknowledge within 8 business hours, answer
within 40).

The clock: time-machine moves the server's "now" (the live server runs in this process), so each
step happens at a chosen instant of a Monday with no public holiday in its fortnight.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from playwright.sync_api import expect

from analysis import services as ops
from analysis.models import Answer, Decision
from requests_app.models import Attachment, FeasibilityRequest, Priority, Role
from tests.browser.conftest import assert_accessible
from tests.conftest import make_user
from tests.requests_app.sales_factories import file_request

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BERLIN = ZoneInfo("Europe/Berlin")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def quiet_monday() -> date:
    """A Monday at least a week ahead (cookies and sessions stay valid in the browser's real time)
    with no German public holiday in its fortnight: every weekday of the journey is a working day."""
    day = datetime.now(BERLIN).date() + timedelta(days=7)
    day += timedelta(days=-day.weekday() % 7)
    while any(day + timedelta(days=n) in holidays.country_holidays("DE", years=[day.year, day.year + 1])
              for n in range(15)):
        day += timedelta(days=7)
    return day


class Clock:
    """The server's clock, frozen at a Monday 09:00 in Berlin; `at("14:30")` moves it on that day,
    `at("09:00", days=7)` to the same time a week later."""

    def __init__(self, traveller: Any, monday: date) -> None:
        self.traveller, self.monday = traveller, monday

    def instant(self, hhmm: str, *, days: int = 0) -> datetime:
        return datetime.combine(self.monday + timedelta(days=days), time.fromisoformat(hhmm), BERLIN)

    def at(self, hhmm: str, *, days: int = 0) -> None:
        self.traveller.move_to(self.instant(hhmm, days=days))

    @staticmethod
    def long_date(moment: datetime) -> str:
        """How the request page writes a promise: "Monday 14 June 2027, 09:00 CEST"."""
        return f"{moment:%A} {moment.day} {moment:%B %Y, %H:%M %Z}"


@pytest.fixture
def clock(settings) -> Iterator[Clock]:
    # The journey spans hours of the server's time within seconds: no session goes idle meanwhile.
    settings.S2O_SESSION_IDLE_SECONDS = 7 * 24 * 3600
    monday = quiet_monday()
    with time_machine.travel(datetime.combine(monday, time(9), BERLIN), tick=False) as traveller:
        yield Clock(traveller, monday)


def confirm_dialogs(page: Any) -> list[str]:
    """Accept every confirmation the page asks; the list collects their questions."""
    asked: list[str] = []

    def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    return asked


def pick(page: Any, field: str, typed: str, option: str) -> None:
    """A search picker (Tom Select): type part of the name, choose from what the server found."""
    page.get_by_role("combobox", name=field, exact=True).fill(typed)
    page.get_by_role("option", name=option).click()


def kpi(page: Any, label: str) -> str:
    """The figure on the dashboard's key-figure card called `label`, as shown."""
    card = page.locator(".kpi-cards .card-body").filter(has=page.get_by_text(label, exact=True))
    return " ".join(card.locator(".fs-4").inner_text().split())


def timeline(page: Any) -> list[str]:
    """The timeline's sentences, oldest first, without their times and details."""
    card = page.locator(".card-body").filter(has=page.get_by_role("heading", name="Timeline", exact=True))
    items = card.locator("ul.timeline > li").all_inner_texts()
    return [item.splitlines()[0].strip() for item in items]


def message(page: Any) -> str:
    return " ".join(page.locator(".alert").all_inner_texts())


# ---------------------------------------------------------------------------------------------
# (a) From filing to the dashboard


def test_a_request_goes_from_filing_to_an_accepted_alternative_on_the_dashboard(
    pages, clock, rep, ops_lead, ops_member, stores_member, manager, customer, product, tmp_path: Path,
) -> None:
    drawing = tmp_path / "bracket-drawing.pdf"
    drawing.write_bytes(PDF)
    requested = clock.monday + timedelta(days=56)

    # Monday 09:00: the rep files the request with the drawing.
    sales = pages.open(rep)
    sales.goto("/requests/new/")
    sales.get_by_label("Title").fill("800 brackets for the spring campaign")
    sales.get_by_label("Quantity").fill("800")
    sales.get_by_label("Requested delivery date").fill(requested.isoformat())
    sales.get_by_label("Target unit price").fill("12.50")
    sales.locator("input[type=file]").set_input_files(str(drawing))
    pick(sales, "Customer", customer.name[:4].lower(), customer.name)
    pick(sales, "Product", product.sku[:3], f"{product.sku} — {product.name}")
    expect(sales.get_by_label("Quantity")).to_have_value("800")
    sales.get_by_role("button", name="Submit to Operations").click()
    sales.wait_for_url(re.compile(r"/requests/\d+/$"))
    req = FeasibilityRequest.objects.get(title="800 brackets for the spring campaign")
    assert sales.get_by_role("heading", level=1).inner_text() == f"{req.reference} · 800 brackets for the spring campaign"
    assert sales.get_by_role("link", name="bracket-drawing.pdf").is_visible()
    # 8 business hours from Monday 09:00: 09–12, 13–17 (7 h), then Tuesday 08:00–09:00.
    tuesday = clock.instant("09:00", days=1)
    assert (f"Submitted — Operations will confirm when they will answer (they committed to confirm by "
            f"{tuesday:%a} {tuesday.day} {tuesday:%b} 09:00).") in sales.locator("main").inner_text()
    download = sales.request.get(sales.get_by_role("link", name="bracket-drawing.pdf").get_attribute("href"))
    assert download.ok and download.body() == PDF

    # The manager's dashboard before: one request open, nothing closed yet to fill.
    board = pages.open(manager)
    board.goto("/ops/dashboard/")
    assert (kpi(board, "Open now"), kpi(board, "Fill rate")) == ("1", "—")

    # 09:30: the operations lead acknowledges (the promise: the policy's answer-by) and routes to two departments.
    clock.at("09:30")
    lead = pages.open(ops_lead)
    lead.goto(req.get_absolute_url())
    lead.get_by_role("link", name="Acknowledge & route").click()
    lead.get_by_label("Procurement", exact=True).check()
    lead.get_by_label("Stores", exact=True).check()
    lead.get_by_role("button", name="Acknowledge and route").click()
    lead.wait_for_url("**/ops/triage/")
    assert f"{req.reference} acknowledged and routed; the rep has been told the answer-by." in message(lead)

    # 40 business hours from the submission (Monday 09:00): the next Monday 09:00.
    promised = clock.instant("09:00", days=7)
    sales.reload()
    assert f"We will analyze and let you know by {Clock.long_date(promised)}." in sales.locator(".promise").inner_text()

    # 11:00 and 11:30: a member of each department assesses from the request page.
    for member, department, verdict, feasible, constraint, at in (
        (ops_member, "Procurement", "Can, with conditions", "500", "Supplier lead time", "11:00"),
        (stores_member, "Stores", "Can", "800", None, "11:30"),
    ):
        clock.at(at)
        page = pages.open(member)
        page.goto(req.get_absolute_url())
        page.get_by_role("link", name=f"Assess: {department}").click()
        page.get_by_label(verdict, exact=True).check()
        page.get_by_label("Quantity feasible by the requested date").fill(feasible)
        if constraint:
            page.get_by_label(constraint, exact=True).check()
        page.get_by_label("Notes").fill(f"{department}: checked on Monday")
        page.get_by_role("button", name="Save assessment").click()
        page.wait_for_url("**/ops/department/")
        assert f"{department}'s assessment saved." in message(page)

    # 14:00: the lead answers with two alternatives and publishes.
    clock.at("14:00")
    lead.goto(req.get_absolute_url())
    lead.get_by_role("link", name="Compose answer").click()
    assert [t.split("\n")[0] for t in lead.locator("#assessments .card-header").all_inner_texts()] == [
        "Procurement", "Stores"]
    lead.get_by_label("Alternatives", exact=True).check()
    lead.get_by_label("Summary").fill("Not all 800 by the date; two ways to get them.")
    later = clock.monday + timedelta(days=70)
    lead.locator("[name=alt-0-quantity]").fill("500")
    lead.locator("[name=alt-0-delivery_date]").fill(requested.isoformat())
    lead.locator("[name=alt-0-conditions]").fill("Half now, the rest later")
    lead.get_by_role("button", name="Add an alternative").click()
    assert lead.locator("[name=alt-0-conditions]").input_value() == "Half now, the rest later"  # kept
    lead.locator("[name=alt-1-quantity]").fill("800")
    lead.locator("[name=alt-1-delivery_date]").fill(later.isoformat())
    lead.locator("[name=alt-1-price]").fill("13.10")
    lead.locator("[name=alt-1-conditions]").fill("All 800, two weeks later")
    asked = confirm_dialogs(lead)
    lead.get_by_role("button", name="Publish").click()
    lead.wait_for_url(re.compile(r"/requests/\d+/$"))
    assert asked == ["Publish this answer to Sales?"]
    assert "Answer 1 (Alternatives) published; the rep has been told." in message(lead)

    # 15:00: the rep reads the answer and accepts the second alternative with one click.
    clock.at("15:00")
    sales.reload()
    answer = sales.locator(".card.border-success").first
    assert answer.locator(".card-header strong").inner_text() == "Answer 1: Alternatives"
    cards = sales.locator("[id^=alternative-]")
    assert cards.count() == 2
    offered = [" ".join(card.split()) for card in cards.all_inner_texts()]
    assert offered[0].startswith(f"Alternative 1 Quantity 500 pcs Delivery {requested.day} {requested:%b %Y}")
    assert offered[1].startswith(f"Alternative 2 Quantity 800 pcs Delivery {later.day} {later:%b %Y} Price 13.10")
    assert "All 800, two weeks later" in offered[1]
    asked = confirm_dialogs(sales)
    cards.nth(1).get_by_role("button", name="Accept this alternative").click()
    sales.wait_for_load_state()
    sales.get_by_text("accepted", exact=True).wait_for()
    assert asked == ["Accept alternative 2 and close the request as 'alternative accepted'?"]
    assert sales.locator("[id^=alternative-]").nth(1).locator(".badge", has_text="accepted").is_visible()
    assert sales.locator("[id^=alternative-]").nth(0).locator(".badge", has_text="accepted").count() == 0
    assert sales.get_by_role("button", name="Accept this alternative").count() == 0  # decided: no more offers
    assert timeline(sales) == [
        "You saved a draft.",
        "You submitted the request to Operations.",
        f"Lena acknowledged and promised an answer by {promised:%a} {promised.day} {promised:%b %Y}, 09:00.",
        "Lena asked Procurement, Stores to assess.",
        # Sales are not told who assessed (DESIGN.md: the departments' internals).
        "S2O recorded Procurement's assessment: Can, with conditions.",
        "S2O recorded Stores's assessment: Can.",
        "Lena published answer 1: Alternatives.",
        "You accepted alternative 2; the request is closed.",
    ]
    assert_accessible(sales)

    # The manager's dashboard now: nothing open, the one answered request filled.
    board.reload()
    assert (kpi(board, "Open now"), kpi(board, "Fill rate")) == ("0", "100.0 %")
    assert_accessible(board)


# ---------------------------------------------------------------------------------------------
# (b) A clarification round


@pytest.fixture
def in_analysis(clock, rep, ops_lead, customer, product) -> FeasibilityRequest:
    """Filed Monday 09:00 (a normal request: answer by the next Monday 09:00), acknowledged and
    routed to procurement at once."""
    req = file_request(rep, customer, product, title="500 brackets, zinc plated")
    ops.request_acknowledge(request_id=req.pk, actor=ops_lead, departments=["procurement"])
    return FeasibilityRequest.objects.get(pk=req.pk)


def test_a_question_to_sales_pauses_the_answer_clock_and_the_reply_resumes_it(
    pages, clock, in_analysis, rep, ops_lead,
) -> None:
    req = in_analysis
    promised = clock.instant("09:00", days=7)

    # Monday 10:00: Operations asks Sales a question.
    clock.at("10:00")
    lead = pages.open(ops_lead)
    lead.goto(req.get_absolute_url())
    # Left from Monday 10:00: 10:00–12:00 and 13:00–17:00 (6 h), Tuesday to Friday (32 h), next Monday 08:00–09:00.
    assert " ".join(lead.locator(".promise").inner_text().split()) == (
        f"Operations promised Sales an answer by {Clock.long_date(promised)}. 39 business h left")
    lead.get_by_role("link", name="Ask Sales").click()
    lead.get_by_label("Question").fill("Which surface finish: zinc plated or powder coated?")
    lead.get_by_role("button", name="Send question").click()
    lead.wait_for_url(re.compile(r"/requests/\d+/$"))
    assert "Question sent to Sales; the answer clock is paused until they reply." in message(lead)
    assert " ".join(lead.locator(".promise").inner_text().split()) == (
        f"Operations promised Sales an answer by {Clock.long_date(promised)}. "
        "The clock is paused: Operations is waiting for Sales to answer a question.")

    sales = pages.open(rep)
    sales.goto(req.get_absolute_url())
    question = sales.locator(".card.border-warning")
    assert question.get_by_role("heading", name="Operations has a question").is_visible()
    assert "Which surface finish: zinc plated or powder coated?" in question.inner_text()
    assert " ".join(sales.locator(".promise").inner_text().split()) == (
        f"We will analyze and let you know by {Clock.long_date(promised)}. "
        "The clock is paused: Operations is waiting for your answer to their question.")

    # 12:00, two business hours later: the rep replies; the answer-by moves by the two hours paused.
    clock.at("12:00")
    sales.reload()
    sales.get_by_label("Your reply").fill("Zinc plated, as on the drawing.")
    sales.get_by_role("button", name="Send reply").click()
    sales.wait_for_url(re.compile(r"/requests/\d+/$"))
    assert "Reply sent — Operations' answer clock runs again." in message(sales)
    moved = clock.instant("11:00", days=7)
    # Left from Monday 12:00: 13:00–17:00 (4 h), Tuesday to Friday (32 h), next Monday 08:00–11:00 (3 h).
    assert " ".join(sales.locator(".promise").inner_text().split()) == (
        f"We will analyze and let you know by {Clock.long_date(moved)}. 39 business h left")
    assert sales.locator(".card.border-warning", has_text="Operations has a question").count() == 0
    details = " ".join(sales.locator("dl").first.inner_text().split())
    assert "Waiting on Sales 2 business hours (the answer-by moved accordingly)" in details
    assert timeline(sales)[-2:] == [
        "Lena asked Sales a question; the answer clock paused.",
        "You answered Operations' question; the answer clock runs again.",
    ]

    lead.reload()
    assert " ".join(lead.locator(".promise").inner_text().split()) == (
        f"Operations promised Sales an answer by {Clock.long_date(moved)}. 39 business h left")
    assert_accessible(sales)


# ---------------------------------------------------------------------------------------------
# (c) Two leads save the same draft answer


def test_a_second_save_of_a_changed_draft_answer_is_refused_and_keeps_what_was_typed(
    pages, clock, in_analysis, ops_lead,
) -> None:
    req = in_analysis
    ops.answer_save_draft(request_id=req.pk, actor=ops_lead, decision=Decision.YES, summary="Yes, all of them.",
                          justification="", alternatives=[], expected_version=None)
    other_lead = make_user("lars", Role.OPS_LEAD, Role.OPS_MEMBER, departments=("shipping",))
    delivery = clock.monday + timedelta(days=63)

    clock.at("10:00")
    lena, lars = pages.open(ops_lead), pages.open(other_lead)
    for page in (lena, lars):
        page.goto(f"/ops/requests/{req.pk}/answer/")
        assert page.get_by_label("Summary").input_value() == "Yes, all of them."

    lena.get_by_label("Summary").fill("Yes, all 500 by the requested date.")
    lena.get_by_role("button", name="Save draft").click()
    lena.wait_for_url(f"**/ops/requests/{req.pk}/answer/")
    assert "Draft saved. Sales does not see it until you publish." in message(lena)

    # Lars, still on the page as it was, types his own answer and saves it.
    lars.get_by_label("Alternatives", exact=True).check()
    lars.get_by_label("Summary").fill("Only 300 by the date.")
    lars.get_by_label("Justification").fill("The supplier needs nine weeks for the rest.")
    lars.locator("[name=alt-0-quantity]").fill("300")
    lars.locator("[name=alt-0-delivery_date]").fill(delivery.isoformat())
    lars.locator("[name=alt-0-conditions]").fill("The rest nine weeks later")
    lars.get_by_role("button", name="Save draft").click()
    lars.wait_for_load_state()

    assert ("The draft answer was changed by someone else while you were editing it; your input is kept below."
            in lars.locator("#answer-form").inner_text())
    assert lars.get_by_label("Alternatives", exact=True).is_checked()
    assert lars.get_by_label("Summary").input_value() == "Only 300 by the date."
    assert lars.get_by_label("Justification").input_value() == "The supplier needs nine weeks for the rest."
    assert lars.locator("[name=alt-0-quantity]").input_value() == "300"
    assert lars.locator("[name=alt-0-delivery_date]").input_value() == delivery.isoformat()
    assert lars.locator("[name=alt-0-conditions]").input_value() == "The rest nine weeks later"
    draft = Answer.objects.get(request=req, published_at__isnull=True)
    assert (draft.summary, draft.alternatives.count()) == ("Yes, all 500 by the requested date.", 0)  # Lena's stands
    assert_accessible(lars)

    # Having seen the refusal, saving again is deliberate: it is checked against the draft as it is now.
    lars.get_by_role("button", name="Save draft").click()
    lars.wait_for_url(f"**/ops/requests/{req.pk}/answer/")
    assert "Draft saved. Sales does not see it until you publish." in message(lars)
    draft = Answer.objects.get(request=req, published_at__isnull=True)
    assert (draft.decision, draft.summary, [a.quantity for a in draft.alternatives.all()]) == (
        Decision.ALTERNATIVES, "Only 300 by the date.", [300])


# ---------------------------------------------------------------------------------------------
# (d) An invalid filing keeps everything typed


def test_an_invalid_filing_says_why_and_keeps_every_field_and_the_attachment(
    pages, clock, rep, customer, product, tmp_path: Path,
) -> None:
    drawing = tmp_path / "bracket-drawing.pdf"
    drawing.write_bytes(PDF)
    requested = clock.monday + timedelta(days=42)
    typed = {  # each field's name on the form, and what the rep types into it
        "title": "Brackets for the autumn line",
        "part_description": "Left-hand variant, see drawing",
        "quantity": "0",
        "unit": "box",
        "requested_date": requested.isoformat(),
        "target_price": "9.75",
        "deal_value": "24375.00",
        "description": "<b>Urgent</b> — the customer's line starts in six weeks.",
    }
    page = pages.open(rep)
    page.goto("/requests/new/")
    for name, value in typed.items():
        page.locator(f"[name={name}]").fill(value)
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Currency").select_option("USD")
    page.locator("input[type=file]").set_input_files(str(drawing))
    pick(page, "Customer", customer.name[:4].lower(), customer.name)
    pick(page, "Product", product.sku[:3], f"{product.sku} — {product.name}")
    page.get_by_role("button", name="Submit to Operations").click()
    page.wait_for_load_state()

    quantity = page.locator("[name=quantity]")
    assert quantity.get_attribute("aria-invalid") == "true" or "is-invalid" in (quantity.get_attribute("class") or "")
    assert page.locator("#id_quantity ~ .invalid-feedback, #error_1_id_quantity").first.inner_text().strip() == (
        "The quantity must be more than zero.")
    for name, value in typed.items():
        assert page.locator(f"[name={name}]").input_value() == value, name
    assert page.get_by_label("Priority").input_value() == "high"
    assert page.get_by_label("Currency").input_value() == "USD"
    assert page.locator("input[name=customer]").input_value() == customer.name
    assert page.locator("input[name=product]").input_value() == product.sku
    kept = page.get_by_label("bracket-drawing.pdf (45 bytes)")
    assert kept.is_checked()
    assert (FeasibilityRequest.objects.count(), Attachment.objects.count()) == (0, 0)  # nothing half-saved
    assert_accessible(page)

    # Corrected, it files with everything typed, the drawing included, without choosing the file again.
    quantity.fill("2500")
    page.get_by_role("button", name="Submit to Operations").click()
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    req = FeasibilityRequest.objects.get()
    assert (req.title, req.customer, req.product, req.part_description, req.quantity, req.unit, req.requested_date,
            req.priority, str(req.target_price), str(req.deal_value), req.currency, req.description) == (
        "Brackets for the autumn line", customer, product, "Left-hand variant, see drawing", 2500, "box", requested,
        Priority.HIGH, "9.75", "24375.00", "USD", "<b>Urgent</b> — the customer's line starts in six weeks.")
    assert [a.original_name for a in req.attachments.all()] == ["bracket-drawing.pdf"]
    assert page.get_by_role("link", name="bracket-drawing.pdf").is_visible()
    assert page.get_by_text("<b>Urgent</b> — the customer's line starts in six weeks.").is_visible()  # escaped
