"""Precedents: the answered requests most like this one, first the obvious one, never one the reader
may not see, never the department notes to Sales."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from analysis import precedents
from analysis.models import Verdict
from requests_app import roles
from requests_app.models import Customer, Product, Status
from tests.analysis.ops_helpers import MONDAY_0900, acknowledge, assess
from tests.requests_app.sales_factories import file_request, publish

LOOKUP = reverse("analysis:precedents")
NOW = MONDAY_0900 + timedelta(days=60)


def answered(rep, lead, member, customer, product, *, when, notes="", cost=None, constraints=("machine_capacity",),
             **fields):
    """A request filed by `rep` at `when`, assessed by procurement (CANNOT, citing `constraints`) and answered."""
    with time_machine.travel(when, tick=False):
        req = file_request(rep, customer, product, now=when, **fields)
    acknowledge(req, lead, now=when + timedelta(hours=1))
    costs = {"cost_impact": cost, "cost_basis": "total"} if cost is not None else {}
    assess(req, "procurement", member, now=when + timedelta(hours=2), verdict=Verdict.CANNOT,
           constraints=constraints, notes=notes, **costs)
    publish(req, lead, now=when + timedelta(hours=3))
    req.refresh_from_db()
    assert req.status == Status.ANSWERED
    return req


@pytest.fixture
def world(rep, teammate, other_rep, ops_lead, ops_member, customer, product):
    globex = Customer.objects.create(name="Globex")
    valve = Product.objects.create(sku="VLV-9", name="Ball valve", unit="pcs")
    hinge = Product.objects.create(sku="HNG-3", name="Brass hinge", unit="pcs")
    day = timedelta(days=1)
    w = {
        # Same customer, same part, same quantity, same words, recent: the obvious precedent.
        "obvious": answered(rep, ops_lead, ops_member, customer, product, when=MONDAY_0900 + 10 * day,
                            title="Stainless brackets for line 4", quantity=Decimal("500"),
                            notes="Press 7 is booked until June.", cost=Decimal("1200")),
        # The same, two years older: less telling today.
        "older": answered(teammate, ops_lead, ops_member, customer, product, when=MONDAY_0900 - 700 * day,
                          title="Stainless brackets for line 2", quantity=Decimal("500")),
        # Another customer, the same part but ten times the quantity.
        "same_part": answered(rep, ops_lead, ops_member, globex, product, when=MONDAY_0900 + 20 * day,
                              title="Brackets, big batch", quantity=Decimal("5000")),
        # The same customer, nothing else in common.
        "same_customer": answered(rep, ops_lead, ops_member, customer, valve, when=MONDAY_0900 + 30 * day,
                                  title="Valves for the refinery", quantity=Decimal("20")),
        # Nothing in common.
        "unrelated": answered(rep, ops_lead, ops_member, globex, hinge, when=MONDAY_0900 + 5 * day,
                              title="Hinges in brass", quantity=Decimal("7")),
        # Identical, but another team's: the rep never sees it.
        "other_team": answered(other_rep, ops_lead, ops_member, customer, product, when=MONDAY_0900 + 40 * day,
                               title="Stainless brackets for line 4", quantity=Decimal("500")),
    }
    with time_machine.travel(MONDAY_0900 + 45 * day, tick=False):
        # Identical but not answered yet: nothing to learn from it.
        w["open"] = file_request(rep, customer, product, title="Stainless brackets for line 4", quantity=Decimal("500"))
    return w


def draft(customer, product) -> precedents.Draft:
    return precedents.Draft(customer_id=customer.pk, product_id=product.pk, part=f"{product.sku} {product.name}",
                            quantity=Decimal("500"), wording="500 stainless brackets for line 4")


def test_the_obvious_precedent_comes_first_then_by_similarity_and_recency(rep, world, customer, product):
    found = precedents.precedents_for(user=rep, draft=draft(customer, product), now=NOW)
    refs = [p.request.pk for p in found]
    assert refs == [world["obvious"].pk, world["older"].pk, world["same_part"].pk, world["same_customer"].pk]
    first = found[0]
    assert first.reasons == ["same part", "same customer", "similar wording", "similar quantity"]
    assert first.constraints == ["Machine capacity"]
    assert first.answer is not None and len(first.alternatives) == 2
    assert found[3].reasons == ["same customer"]


def test_a_part_typed_in_words_finds_the_requests_for_that_part_number(rep, world):
    # No part picked, only typed: the valve request's part (VLV-9, "Ball valve") is the one alike.
    found = precedents.precedents_for(user=rep, draft=precedents.Draft(part="ball valve VLV-9"), now=NOW)
    assert [p.request.pk for p in found] == [world["same_customer"].pk]
    assert found[0].reasons == ["similar part"]


def test_a_reader_never_gets_a_request_they_may_not_see(rep, other_rep, manager, world, customer, product):
    seen_by_rep = {p.request.pk for p in precedents.precedents_for(user=rep, draft=draft(customer, product), now=NOW)}
    assert world["other_team"].pk not in seen_by_rep
    seen_by_other = [p.request.pk for p in precedents.precedents_for(user=other_rep, draft=draft(customer, product),
                                                                     now=NOW)]
    assert seen_by_other == [world["other_team"].pk]
    seen_by_manager = [p.request.pk for p in precedents.precedents_for(user=manager, draft=draft(customer, product),
                                                                       now=NOW)]
    assert seen_by_manager[:2] == [world["other_team"].pk, world["obvious"].pk]  # equal, the newer first


def test_a_request_is_not_its_own_precedent_and_unanswered_ones_are_not_shown(rep, world):
    req = world["open"]
    found = precedents.precedents_for(user=rep, draft=precedents.Draft.of(req), now=NOW)
    assert found[0].request.pk == world["obvious"].pk
    assert req.pk not in {p.request.pk for p in found}
    own = precedents.precedents_for(user=rep, draft=precedents.Draft.of(world["obvious"]), now=NOW)
    assert world["obvious"].pk not in {p.request.pk for p in own}


def test_the_lookup_gives_sales_no_department_notes_or_costs(client, rep, ops_member, ops_lead, world, customer,
                                                             product):
    params = {"customer": customer.pk, "product": product.pk, "quantity": "500", "title": "stainless brackets"}
    client.force_login(rep)
    with time_machine.travel(NOW, tick=False):
        body = client.get(LOOKUP, params).json()
        html = client.get(LOOKUP, {**params, "format": "html"}).content.decode()
    first = body["precedents"][0]
    assert first["reference"] == world["obvious"].reference
    assert first["constraints"] == ["Machine capacity"]
    assert first["departments"] == [{"department": "Procurement", "verdict": "cannot"}]
    assert all("cost_delta" not in alt for alt in first["alternatives"])
    assert world["obvious"].reference in html and "Press 7" not in html and "1200" not in html

    client.force_login(ops_lead)
    with time_machine.travel(NOW, tick=False):
        body = client.get(LOOKUP, params).json()
    first = next(p for p in body["precedents"] if p["reference"] == world["obvious"].reference)
    assert first["departments"] == [{"department": "Procurement", "verdict": "cannot",
                                     "notes": "Press 7 is booked until June.", "cost_impact": "1200.00"}]


def test_the_lookup_refuses_bad_input_with_a_message_and_outsiders(client, rep, nobody):
    client.force_login(rep)
    response = client.get(LOOKUP, {"quantity": "lots"})
    assert response.status_code == 400
    assert "quantity" in response.json()["errors"]
    client.force_login(nobody)
    assert client.get(LOOKUP, {"title": "brackets"}).status_code == 403


def test_the_draft_page_shows_its_author_the_precedents(client, rep, other_rep, world, customer, product):
    with time_machine.travel(NOW, tick=False):
        mine = file_request(rep, customer, product, submit=False, title="Stainless brackets for line 9")
        client.force_login(rep)
        page = client.get(mine.get_absolute_url()).content.decode()
        later = f"{LOOKUP}?request={mine.pk}"
        # The page keeps a place for them, filled after it has loaded; its link works without script.
        assert f'data-panel-url="{later}&amp;format=html"' in page
        assert f'href="{later}&amp;format=page"' in page
        panel = client.get(LOOKUP, {"request": mine.pk, "format": "html"}).content.decode()
        own_page = client.get(LOOKUP, {"request": mine.pk, "format": "page"}).content.decode()
    for shown in (panel, own_page):
        assert "Similar earlier requests" in shown
        assert world["obvious"].reference in shown and world["other_team"].reference not in shown
    assert f'href="{mine.get_absolute_url()}"' in own_page  # the way back to the draft
    client.force_login(other_rep)  # someone else's draft: not theirs to see
    assert client.get(LOOKUP, {"request": mine.pk, "format": "html"}).status_code == 404


def test_operations_see_precedents_with_notes_on_the_request_page_sales_do_not_once_submitted(
        client, rep, ops_lead, world):
    url = world["open"].get_absolute_url()
    client.force_login(ops_lead)
    assert f"{LOOKUP}?request={world['open'].pk}" in client.get(url).content.decode()
    panel = client.get(LOOKUP, {"request": world["open"].pk, "format": "html"}).content.decode()
    assert "Similar earlier requests" in panel and "Press 7 is booked until June." in panel
    client.force_login(rep)
    assert "Similar earlier requests" not in client.get(url).content.decode()
    refused = client.get(LOOKUP, {"request": world["open"].pk, "format": "html"})
    assert refused.status_code == 403 and "Press 7" not in refused.content.decode()


def test_the_filing_form_asks_for_precedents_as_the_rep_types(client, rep):
    client.force_login(rep)
    page = client.get(reverse("requests_app:create")).content.decode()
    assert f'data-aid-url="{LOOKUP}"' in page


@pytest.mark.usefixtures("postgres_only")
def test_precedents_cost_a_fixed_number_of_queries(rep, manager, world, customer, product, django_assert_max_num_queries):
    for reader in (rep, manager):
        reader = type(reader).objects.get(pk=reader.pk)
        roles.user_roles(reader)  # read once per request with the page's user, not here
        with django_assert_max_num_queries(7):
            assert precedents.precedents_for(user=reader, draft=draft(customer, product), now=NOW)
