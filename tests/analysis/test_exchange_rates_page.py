"""The managers' exchange rates page: check a CSV file, see each row, then save it."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_app.models import ExchangeRate

URL = reverse("analysis:exchange_rates")


def csv_file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("rates.csv", text.encode("utf-8"), content_type="text/csv")


@pytest.mark.parametrize("persona", ["rep", "sales_manager", "ops_lead", "ops_member"])
def test_only_managers_see_the_page(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "check", "file": csv_file("currency,valid_from,rate\n")}).status_code == 403


def test_check_shows_the_rows_saves_nothing_then_save_stores_them(client, manager):
    client.force_login(manager)
    assert "No rate yet" in client.get(URL).content.decode()
    response = client.post(URL, {"action": "check", "file": csv_file("currency,valid_from,rate\nUSD,2026-01-05,0.9215\n")})
    html = response.content.decode()
    assert response.status_code == 200 and "Ready to save: 1 rate" in html and "0.9215" in html
    assert ExchangeRate.objects.count() == 0
    carried = re.search(r'name="content" value="([^"]+)"', html).group(1)
    response = client.post(URL, {"action": "save", "content": carried}, follow=True)
    assert "1 exchange rate saved." in response.content.decode()
    rate = ExchangeRate.objects.get()
    assert (rate.currency, rate.valid_from, str(rate.rate), rate.updated_by) == ("USD", date(2026, 1, 5), "0.92150000", manager)
    assert rate.history.count() == 1  # who and when, kept


def test_a_file_with_errors_is_shown_with_them_and_offers_no_save(client, manager):
    client.force_login(manager)
    text = "currency,valid_from,rate\nUSD,2026-01-05,0.92\nXYZ,2026-01-05,1\n"
    response = client.post(URL, {"action": "check", "file": csv_file(text)})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing saved: 1 problem to fix" in html and "Unknown currency “XYZ”" in html
    assert 'name="content"' not in html and ExchangeRate.objects.count() == 0


def test_a_save_whose_file_came_back_altered_saves_nothing(client, manager):
    client.force_login(manager)
    response = client.post(URL, {"action": "save", "content": "not base64 at all!"}, follow=True)
    assert "did not come back intact" in response.content.decode() and ExchangeRate.objects.count() == 0


def test_no_file_chosen_is_a_form_error(client, manager):
    client.force_login(manager)
    response = client.post(URL, {"action": "check"})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
