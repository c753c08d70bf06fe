"""Files kept for an invalid filing form are bounded: at most the request's file limit per form and a
total per user, whatever one POST carries; what is refused is never stored."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_app import services
from tests.requests_app.sales_factories import filing_form_data as post_data

PDF = b"%PDF-1.4\n" + b"x" * 1024 + b"\n%%EOF\n"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def stored_files(user) -> int:
    """Files (not indexes) on storage under the user's staging folder."""
    count = 0
    tokens = default_storage.listdir(f"staging/{user.pk}")[0] if default_storage.exists(f"staging/{user.pk}") else []
    for token in tokens:
        count += sum(1 for name in default_storage.listdir(f"staging/{user.pk}/{token}")[1] if name != "index.json")
    return count


def invalid_form_with_files(customer, product, n: int) -> dict:
    files = [SimpleUploadedFile(f"part-{i:03d}.pdf", PDF, content_type="application/pdf") for i in range(n)]
    return post_data(customer, product, title="", token=str(uuid.uuid4()), attachments=files)


def test_an_invalid_form_with_a_hundred_files_keeps_ten_and_says_the_rest_were_not_kept(client, rep, customer, product):
    client.force_login(rep)

    response = client.post(reverse("requests_app:create"), invalid_form_with_files(customer, product, 100))

    assert response.status_code == 400
    page = response.content.decode()
    assert "90 of your files were not kept: a request takes at most 10 files" in page
    assert stored_files(rep) == 10


def test_new_forms_cannot_pile_up_more_than_the_users_staged_total(client, rep, customer, product):
    client.force_login(rep)

    for _ in range(4):  # every new token used to open a new folder without limit
        client.post(reverse("requests_app:create"), invalid_form_with_files(customer, product, 10))

    assert stored_files(rep) == 20


def test_the_staged_total_also_bounds_bytes(rep, monkeypatch):
    monkeypatch.setattr(services, "STAGED_BYTES_PER_USER", 3 * len(PDF))
    first, second = uuid.uuid4(), uuid.uuid4()

    kept = services.staging_add(token=first, user=rep, uploads=[SimpleUploadedFile(f"{i}.pdf", PDF) for i in range(2)])
    more = services.staging_add(token=second, user=rep, uploads=[SimpleUploadedFile(f"{i}.pdf", PDF) for i in range(2)])

    assert (len(kept.files), kept.refused) == (2, 0)
    assert (len(more.files), more.refused) == (1, 1)
    assert stored_files(rep) == 3


def test_another_users_staged_files_do_not_count_against_mine(rep, teammate):
    services.staging_add(token=uuid.uuid4(), user=teammate,
                         uploads=[SimpleUploadedFile(f"{i}.pdf", PDF) for i in range(services.STAGED_FILES_PER_USER)])

    mine = services.staging_add(token=uuid.uuid4(), user=rep, uploads=[SimpleUploadedFile("a.pdf", PDF)])

    assert (len(mine.files), mine.refused) == (1, 0)
