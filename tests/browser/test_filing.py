"""A sales rep files a request in a real browser: the form, the attachment, the request page."""

from __future__ import annotations

from pathlib import Path

import pytest

from requests_app.models import FeasibilityRequest, Status
from tests.browser.conftest import PHONE, assert_accessible, horizontal_overflow

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_rep_files_a_request_with_a_drawing_and_lands_on_its_page(pages, rep, customer, product, tmp_path: Path) -> None:
    drawing = tmp_path / "bracket-drawing.pdf"
    drawing.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    page = pages.open(rep)
    page.goto("/requests/new/")
    assert_accessible(page)

    page.get_by_label("Title").fill("800 brackets for the spring campaign")
    # Pickers that search (Tom Select): type part of the name, choose from what the server found.
    page.get_by_role("combobox", name="Customer", exact=True).fill(customer.name[:4].lower())
    page.get_by_role("option", name=customer.name).click()
    page.get_by_role("combobox", name="Product", exact=True).fill(product.sku[:3])
    page.get_by_role("option", name=f"{product.sku} — {product.name}").click()
    assert_accessible(page)  # with a picker's list open and a choice made
    page.get_by_label("Quantity").fill("800")
    page.get_by_label("Requested delivery date").fill("2031-03-02")
    page.locator("input[type=file]").set_input_files(str(drawing))
    page.get_by_role("button", name="Submit to Operations").click()

    page.wait_for_url("**/requests/*/")
    req = FeasibilityRequest.objects.get(title="800 brackets for the spring campaign")
    assert req.status == Status.SUBMITTED and req.requested_by == rep
    assert [a.original_name for a in req.attachments.all()] == ["bracket-drawing.pdf"]
    assert page.get_by_role("heading", level=1).inner_text().startswith(req.reference)
    assert page.get_by_role("link", name="bracket-drawing.pdf").is_visible()
    assert_accessible(page)


def test_a_picker_is_used_with_the_keyboard_alone(pages, rep, customer) -> None:
    page = pages.open(rep)
    page.goto("/requests/new/")
    page.get_by_label("Title").focus()
    page.keyboard.press("Tab")  # into the customer's search box
    page.keyboard.type(customer.name[:3])
    page.get_by_role("option", name=customer.name).wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.locator("input[name=customer]").input_value() == customer.name
    assert_accessible(page)


def test_the_filing_form_fits_a_phone(pages, rep, customer) -> None:
    page = pages.open(rep, viewport=PHONE)
    page.goto("/requests/new/")
    assert horizontal_overflow(page) == 0
    assert_accessible(page)
