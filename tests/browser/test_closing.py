"""Recording an outcome in a real browser: nothing is chosen at first, the browser points out the
missing choice before anything is asked, and the confirmation names the outcome; cancelling it
keeps the request open."""

from __future__ import annotations

import pytest

from requests_app.models import FeasibilityRequest, Status
from tests.browser.conftest import assert_accessible
from tests.requests_app.sales_factories import request_in

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_record_outcome_asks_first_and_names_the_outcome(pages, rep, customer, ops_lead) -> None:
    req = request_in(Status.ANSWERED, rep=rep, customer=customer, lead=ops_lead)
    page = pages.open(rep)
    page.goto(req.get_absolute_url())
    assert_accessible(page)
    questions: list[str] = []
    answers = iter([False, True])  # cancel the first confirmation, accept the second

    def on_dialog(dialog) -> None:
        questions.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", on_dialog)
    outcome = page.get_by_label("Outcome")
    assert outcome.input_value() == ""
    record = page.get_by_role("button", name="Record outcome")

    record.click()  # nothing chosen: the browser refuses before any question
    assert questions == [] and FeasibilityRequest.objects.get(pk=req.pk).status == Status.ANSWERED

    outcome.select_option("lost")
    record.click()  # cancelled
    assert questions == ["Close this request as “Lost — the customer went elsewhere”? This cannot be undone."]
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.ANSWERED

    record.click()  # confirmed
    page.wait_for_load_state()
    page.get_by_text("Outcome recorded; the request is closed.").wait_for()
    assert FeasibilityRequest.objects.get(pk=req.pk).outcome == "lost"
