"""Pickers that search: small JSON answers (at most 20) for the people who see the field, and a
text input that takes a name, a code or a part number without JavaScript; no page ships every customer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from requests_app.models import Customer, Product
from tests.requests_app.sales_factories import file_request


def pick(client, source: str, q: str = ""):
    return client.get(reverse("requests_app:pick", args=[source]), {"q": q})


@pytest.fixture
def many_customers(db):
    Customer.objects.bulk_create(Customer(name=f"Customer {i:04d}", code=f"C{i:04d}") for i in range(2500))


def test_a_search_answers_at_most_20_matches_those_it_starts_first(client, rep, many_customers):
    Customer.objects.create(name="Zinc Works 0042", code="ZW-1")
    client.force_login(rep)
    results = pick(client, "customers", "0042").json()["results"]
    assert results == [
        {"value": "Customer 0042", "text": "Customer 0042 (C0042)"},  # its code starts with C0042: listed first
        {"value": "Zinc Works 0042", "text": "Zinc Works 0042 (ZW-1)"},
    ]
    assert len(pick(client, "customers", "customer").json()["results"]) == 20
    assert [r["value"] for r in pick(client, "customers", "zw-").json()["results"]] == ["Zinc Works 0042"]
    assert len(pick(client, "customers", "").json()["results"]) == 20


def test_products_by_part_number_or_name(client, rep, product):
    Product.objects.create(sku="WDG-7", name="Widget seven")
    client.force_login(rep)
    assert pick(client, "products", "widget").json()["results"] == [{"value": "WDG-7", "text": "WDG-7 — Widget seven"}]


def test_who_may_search_what(client, rep, ops_member, manager, django_user_model, customer):
    nobody = django_user_model.objects.create_user("nobody", password="pw")
    for user, source, status in [(rep, "customers", 200), (ops_member, "products", 200), (manager, "reps", 200),
                                 (rep, "reps", 403), (ops_member, "reps", 403), (nobody, "customers", 403),
                                 (rep, "suppliers", 404)]:
        client.force_login(user)
        assert pick(client, source, "a").status_code == status, (user, source)
    client.logout()
    assert pick(client, "customers", "a").status_code == 302  # to the login page


def test_the_rep_search_lists_sales_people_only(client, manager, rep, sales_manager, ops_lead):
    client.force_login(manager)
    values = {r["value"] for r in pick(client, "reps").json()["results"]}
    assert rep.username in values and sales_manager.username in values
    assert ops_lead.username not in values and manager.username not in values


def test_no_page_ships_every_customer(client, rep, customer, product, many_customers):
    client.force_login(rep)
    for url in (reverse("requests_app:list"), reverse("requests_app:create")):
        body = client.get(url).content.decode()
        assert "Customer 1999" not in body and "<option" not in body.split('name="customer"')[1][:200], url
        assert 'data-picker="/requests/pick/customers/"' in body, url


def test_without_javascript_the_list_filter_takes_a_customer_code(client, rep, customer, product):
    Customer.objects.filter(pk=customer.pk).update(code="AC-1")
    other = Customer.objects.create(name="Globex")
    mine = file_request(rep, customer, product)
    file_request(rep, other, product)
    client.force_login(rep)
    for typed in ("AC-1", "ac-1", customer.name, customer.name.upper()):
        response = client.get(reverse("requests_app:list"), {"customer": typed})
        assert [req.pk for req, _ in response.context["rows"]] == [mine.pk], typed
    response = client.get(reverse("requests_app:list"), {"customer": "Initech"})
    assert "No customer matches “Initech”" in response.content.decode()
    assert 'value="Initech"' in response.content.decode()  # the input is kept


def test_the_edit_form_shows_the_picked_customer_and_product(client, rep, customer, product):
    from requests_app.models import Status

    draft = file_request(rep, customer, product, submit=False)
    assert draft.status == Status.DRAFT
    client.force_login(rep)
    body = client.get(reverse("requests_app:edit", args=[draft.pk])).content.decode()
    assert f'value="{customer.name}"' in body and f'value="{product.sku}"' in body


def test_the_dashboard_filters_by_a_searched_customer_and_rep(client, manager, many_customers):
    client.force_login(manager)
    body = client.get(reverse("analysis:dashboard")).content.decode()
    assert "Customer 1999" not in body and 'data-picker="/requests/pick/reps/"' in body
    response = client.get(reverse("analysis:dashboard"), {"customer": "C0042"})
    assert response.context["board"].filter.customer == Customer.objects.get(code="C0042").pk
