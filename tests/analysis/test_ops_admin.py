"""Admin screens for Operations' records: taxonomy labels editable, codes fixed, ledger read-only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from analysis.models import ConstraintCategory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.mark.parametrize("model", ["constraintcategory", "assessment", "answer", "reminderledger"])
def test_every_operations_admin_list_opens(admin_client, model):
    assert admin_client.get(reverse(f"admin:analysis_{model}_changelist")).status_code == 200


def test_a_constraint_label_is_editable_but_its_code_is_not(admin_client):
    category = ConstraintCategory.objects.get(code="tooling")
    url = reverse("admin:analysis_constraintcategory_change", args=[category.pk])

    response = admin_client.post(url, {"label": "Tooling & fixtures", "sort_order": 5, "code": "hacked"})

    assert response.status_code == 302
    category.refresh_from_db()
    assert (category.code, category.label) == ("tooling", "Tooling & fixtures")


def test_the_reminder_ledger_cannot_be_added_to_by_hand(admin_client):
    assert admin_client.get(reverse("admin:analysis_reminderledger_add")).status_code == 403
