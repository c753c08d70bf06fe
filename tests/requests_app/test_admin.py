"""The admin pages for requests render (list filters, search, read-only inlines)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.requests_app.sales_factories import file_request


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.mark.parametrize(
    "model",
    ["feasibilityrequest", "requestevent", "clockevent", "comment", "attachment", "customer", "product", "businesscalendar",
     "department", "salesteam", "slapolicy", "profile", "notification", "pause", "referencecounter"],
)
def test_every_changelist_renders(admin_client, model, rep, customer, product):
    file_request(rep, customer, product)
    response = admin_client.get(reverse(f"admin:requests_app_{model}_changelist"), {"q": "S2O"})
    assert response.status_code == 200


def test_the_request_change_page_shows_its_history_read_only(admin_client, rep, customer, product):
    req = file_request(rep, customer, product)
    response = admin_client.get(reverse("admin:requests_app_feasibilityrequest_change", args=[req.pk]))
    assert response.status_code == 200
    assert "Submitted" in response.content.decode() and req.reference in response.content.decode()
