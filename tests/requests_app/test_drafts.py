"""A half-written request can be parked: a draft needs only its title; submitting needs the rest,
and says what is missing."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from requests_app.models import FeasibilityRequest, Status
from tests.requests_app.sales_factories import filing_form_data as post_data

pytestmark = pytest.mark.django_db

ONLY_A_TITLE = {"title": "Brackets for the Baltic yard, to finish", "customer": "", "product": "", "quantity": "",
                "requested_date": "", "target_price": "", "deal_value": "", "description": ""}


def test_save_as_draft_keeps_a_request_with_only_its_title(client, rep, customer, product):
    client.force_login(rep)

    response = client.post(reverse("requests_app:create"), post_data(customer, product, save_draft="1", **ONLY_A_TITLE))

    draft = FeasibilityRequest.objects.get()
    assert response.status_code == 302 and response.url == draft.get_absolute_url()
    assert draft.status == Status.DRAFT and draft.title == "Brackets for the Baltic yard, to finish"
    assert draft.customer is None and draft.quantity is None and draft.requested_date is None
    page = client.get(draft.get_absolute_url()).content.decode()
    assert "before you submit it, fill in the customer, the part, the quantity, the requested delivery date" in page


def page_text(response) -> str:
    """The page as a reader sees it: its words without the markup."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_a_title_only_draft_says_what_is_not_given_yet_where_the_rep_sees_it(client, rep, customer, product):
    client.force_login(rep)
    client.post(reverse("requests_app:create"), post_data(customer, product, save_draft="1", **ONLY_A_TITLE))
    draft = FeasibilityRequest.objects.get()

    home = page_text(client.get(reverse("requests_app:my_work")))
    assert "customer not given yet · quantity not given yet · delivery date not given yet · Normal priority" in home

    listed = page_text(client.get(reverse("requests_app:list")))
    row = listed[listed.index("Brackets for the Baltic yard, to finish"):]
    assert row.startswith("Brackets for the Baltic yard, to finish" + " not given yet" * 4 + " Normal Draft")

    page = page_text(client.get(draft.get_absolute_url()))
    assert ("Customer not given yet Part not given yet Quantity not given yet Requested delivery not given yet "
            "Target price") in page


def test_a_draft_still_needs_its_title(client, rep, customer, product):
    client.force_login(rep)

    response = client.post(reverse("requests_app:create"),
                           post_data(customer, product, save_draft="1", **{**ONLY_A_TITLE, "title": ""}))

    assert response.status_code == 400 and not FeasibilityRequest.objects.exists()


def test_submitting_at_once_still_needs_everything(client, rep, customer, product):
    client.force_login(rep)

    response = client.post(reverse("requests_app:create"), post_data(customer, product, **ONLY_A_TITLE))

    page = response.content.decode()
    assert response.status_code == 400 and not FeasibilityRequest.objects.exists()
    assert "Pick the customer, or type the name of a new one." in page
    assert "Pick a catalogue part or describe the part." in page


def test_submitting_an_incomplete_draft_says_what_is_missing_and_leaves_it_a_draft(client, rep, customer, product):
    client.force_login(rep)
    client.post(reverse("requests_app:create"), post_data(customer, product, save_draft="1",
                                                          **{**ONLY_A_TITLE, "customer": customer.name}))
    draft = FeasibilityRequest.objects.get()

    response = client.post(reverse("requests_app:submit", args=[draft.pk]), follow=True)

    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.reference is None
    assert ("Before submitting, fill in the part, the quantity and the requested delivery date: edit the draft."
            in response.content.decode())


def test_a_completed_draft_is_edited_and_submitted(client, rep, customer, product):
    client.force_login(rep)
    client.post(reverse("requests_app:create"), post_data(customer, product, save_draft="1", **ONLY_A_TITLE))
    draft = FeasibilityRequest.objects.get()

    edited = client.post(reverse("requests_app:edit", args=[draft.pk]),
                         post_data(customer, product, title=draft.title, version=draft.version))
    client.post(reverse("requests_app:submit", args=[draft.pk]))

    draft.refresh_from_db()
    assert edited.status_code == 302
    assert draft.status == Status.SUBMITTED and draft.customer == customer and draft.quantity == 500


def test_the_database_refuses_a_submitted_request_without_customer_quantity_or_date(client, rep, customer, product):
    client.force_login(rep)
    client.post(reverse("requests_app:create"), post_data(customer, product))
    submitted = FeasibilityRequest.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        FeasibilityRequest.objects.filter(pk=submitted.pk).update(quantity=None)


def test_the_csv_export_lists_a_draft_without_its_missing_fields(client, rep, customer, product):
    client.force_login(rep)
    client.post(reverse("requests_app:create"), post_data(customer, product, save_draft="1", **ONLY_A_TITLE))

    response = client.get(reverse("requests_app:export"))

    body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
    assert response.status_code == 200 and "Brackets for the Baltic yard, to finish" in body
