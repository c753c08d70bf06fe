"""The learning loop in a real browser: the forecast and precedents appear beside the filing form as
the rep types; the improvement pages read well on a phone and with a screen reader."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analysis import improvements
from analysis.models import ConstraintCategory
from tests.browser.conftest import PHONE, assert_accessible, horizontal_overflow

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_filing_form_shows_the_forecast_and_precedents_as_the_rep_types(pages, rep, customer, product) -> None:
    page = pages.open(rep, viewport=PHONE)
    page.goto("/requests/new/")
    page.get_by_label("Title").fill("800 brackets for the spring campaign")
    picker = page.locator("#id_product-ts-control")
    picker.fill(product.sku[:3])
    page.locator(".ts-dropdown .option").first.click()  # the part, picked from the suggestions
    forecast = page.locator("#aid-forecast")
    forecast.get_by_role("heading", name="When to expect an answer").wait_for()
    assert "Too little history to forecast" in forecast.inner_text()
    page.locator("#aid-precedents").get_by_role("heading", name="Similar earlier requests").wait_for()
    assert horizontal_overflow(page) == 0
    assert_accessible(page)


def test_the_improvement_pages_fit_a_phone(pages, ops_lead) -> None:
    action = improvements.action_open(
        actor=ops_lead, constraint=ConstraintCategory.objects.get(code="tooling"), title="A second set of dies",
        owner=ops_lead, target_date=timezone.localdate() + timedelta(days=60),
        expected_effect="Tooling no longer blocks repeat orders.",
    )
    page = pages.open(ops_lead, viewport=PHONE)
    page.goto("/ops/improvements/")
    assert page.get_by_role("link", name="A second set of dies").count() == 2  # open on tooling; among all
    assert horizontal_overflow(page) == 0
    assert_accessible(page)
    page.goto(action.get_absolute_url())
    page.get_by_role("button", name="Start it").click()
    page.get_by_text("The action is now in progress.").wait_for()
    assert horizontal_overflow(page) == 0
    assert_accessible(page)
    page.goto("/ops/improvements/new/?constraint=tooling")
    assert horizontal_overflow(page) == 0
    assert_accessible(page)


def test_a_draft_fills_in_its_forecast_and_similar_requests_after_the_page_loads(pages, rep, customer, product) -> None:
    from tests.requests_app.sales_factories import file_request

    draft = file_request(rep, customer, product, submit=False)
    page = pages.open(rep, viewport=PHONE)
    page.goto(draft.get_absolute_url())
    # The places kept for them are replaced by the panels themselves (their links go away).
    page.get_by_text("Too little history to forecast").wait_for()
    page.get_by_text("No earlier answered request looks like this one yet.").wait_for()
    assert page.get_by_role("link", name="Show the earlier requests most like this one").count() == 0
    assert page.locator("[data-panel-url]").count() == 0
    assert horizontal_overflow(page) == 0
    assert_accessible(page)
