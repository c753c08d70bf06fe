"""The filing form: valid input passes, each bad field says what is wrong, files are checked for
type, size and content."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.datastructures import MultiValueDict

from requests_app.forms import MAX_FILES, RequestForm, check_upload
from tests.requests_app.sales_factories import filing_form_data as valid_data

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32




def form_with(data, files=()):
    return RequestForm(data=data, files=MultiValueDict({"attachments": list(files)}) if files else None)


def test_a_complete_form_is_valid(customer, product):
    form = form_with(valid_data(customer, product))
    assert form.is_valid(), form.errors


def test_a_new_customer_by_name_is_valid_instead_of_a_pick(customer, product):
    form = form_with(valid_data(customer, product, customer="", new_customer="Globex"))
    assert form.is_valid(), form.errors


def test_free_text_part_is_valid_without_a_catalogue_part(customer, product):
    form = form_with(valid_data(customer, product, product="", part_description="Bracket, 3 mm steel"))
    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "required"),
        ({"customer": "", "new_customer": ""}, "customer", "Pick the customer"),
        ({"new_customer": "Globex"}, "new_customer", "not both"),
        ({"customer": "999999"}, "customer", "No customer matches “999999”"),
        ({"product": "NOPE-1"}, "product", "No product matches “NOPE-1”"),
        ({"product": "", "part_description": ""}, "part_description", "describe the part"),
        ({"quantity": ""}, "quantity", "required"),
        ({"quantity": "0"}, "quantity", "The quantity must be more than zero."),
        ({"quantity": "lots"}, "quantity", "Enter a number"),
        ({"requested_date": ""}, "requested_date", "required"),
        ({"requested_date": "2020-01-01"}, "requested_date", "in the past"),
        ({"requested_date": "31/31/2026"}, "requested_date", "valid date"),
        ({"target_price": "-1"}, "target_price", "cannot be negative"),
        ({"deal_value": "-5"}, "deal_value", "cannot be negative"),
        ({"currency": "XXX"}, "currency", "valid choice"),
        ({"priority": "asap"}, "priority", "valid choice"),
        ({"token": "not-a-uuid"}, "token", "valid UUID"),
    ],
)
def test_each_bad_field_gets_a_clear_error(customer, product, overrides, field, message):
    form = form_with(valid_data(customer, product, **overrides))
    assert not form.is_valid()
    assert field in form.errors
    assert message.lower() in " ".join(form.errors[field]).lower()


def test_allowed_files_with_matching_content_pass(customer, product):
    files = [
        SimpleUploadedFile("drawing.pdf", PDF),
        SimpleUploadedFile("photo.png", PNG),
        SimpleUploadedFile("spec.txt", b"M8x20"),
    ]
    form = form_with(valid_data(customer, product), files)
    assert form.is_valid(), form.errors
    assert [f.name for f in form.cleaned_data["attachments"]] == ["drawing.pdf", "photo.png", "spec.txt"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tool.exe", b"MZ\x90\x00", "cannot be attached"),
        ("noextension", b"hello", "cannot be attached"),
        ("fake.pdf", b"MZ\x90\x00 this is not a pdf", "does not look like a .pdf"),
        ("fake.png", b"GIF89a", "does not look like a .png"),
        ("binary.txt", b"abc\x00def", "does not look like a text"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_bad_files_are_refused_with_the_reason(customer, product, name, content, message):
    form = form_with(valid_data(customer, product), [SimpleUploadedFile(name, content)])
    assert not form.is_valid()
    assert message in " ".join(form.errors["attachments"])


def test_a_file_over_the_size_limit_is_refused(customer, product, settings):
    settings.S2O_ATTACHMENT_MAX_BYTES = 100
    upload = SimpleUploadedFile("big.pdf", PDF + b"x" * 200)
    assert "the limit is 100" in check_upload(upload)
    form = form_with(valid_data(customer, product), [upload])
    assert not form.is_valid()
    assert "limit" in " ".join(form.errors["attachments"])


def test_the_allowed_extensions_come_from_settings(settings):
    settings.S2O_ATTACHMENT_EXTENSIONS = ["pdf"]
    assert "cannot be attached" in check_upload(SimpleUploadedFile("a.txt", b"hi"))
    assert check_upload(SimpleUploadedFile("a.pdf", PDF)) is None


def test_more_than_the_maximum_number_of_files_is_refused(customer, product):
    files = [SimpleUploadedFile(f"f{i}.txt", b"x") for i in range(MAX_FILES + 1)]
    form = form_with(valid_data(customer, product), files)
    assert not form.is_valid()
    assert "At most" in " ".join(form.errors["attachments"])
