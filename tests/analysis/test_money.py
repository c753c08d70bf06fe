"""Money has units: a cost impact and a cost delta say per unit or for the whole quantity, and in
which currency; the answer's pre-fill adds costs only of one kind and names the constraint each
alternative works around; the data migration gives old costs a basis from their wording; the
composer adds alternatives one at a time and refuses a forged number of them quickly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from analysis import selectors, services
from analysis.models import Alternative, Answer, Assessment, CostBasis, Decision, Verdict
from requests_app.models import FeasibilityRequest
from tests.analysis.ops_helpers import MONDAY_0900, MONDAY_1000, acknowledge, assess, constraint, file_request

WEDNESDAY_1000 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
APRIL_1 = date(2026, 4, 1)


@pytest.fixture
def wednesday():
    with time_machine.travel(WEDNESDAY_1000, tick=False):
        yield


@pytest.fixture
def routed(rep, customer, team_a, ops_lead):
    """500 pcs asked by 1 April, routed to procurement and stores."""
    with time_machine.travel(MONDAY_0900, tick=False):
        req = file_request(rep, customer, now=MONDAY_0900, sales_team=team_a, requested_date=APRIL_1)
    with time_machine.travel(MONDAY_1000, tick=False):
        return acknowledge(req, ops_lead, now=MONDAY_1000, departments=["procurement", "stores"])


def assess_both(req, ops_member, stores_member, *, procurement: dict, stores: dict) -> list[Assessment]:
    assess(req, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CAN_WITH_CONDITIONS,
           constraints=["supplier_lead_time"], **procurement)
    assess(req, "stores", stores_member, now=WEDNESDAY_1000, verdict=Verdict.CAN_WITH_CONDITIONS,
           constraints=["inventory"], **stores)
    return selectors.assessments_of(req)


PER_UNIT_SURCHARGE = {"quantity_feasible": Decimal(500), "earliest_full_date": date(2026, 4, 10),
                      "cost_impact": Decimal("2.10"), "cost_basis": CostBasis.PER_UNIT}
OVERTIME = {"quantity_feasible": Decimal(300), "earliest_full_date": date(2026, 4, 20),
            "cost_impact": Decimal("1800.00"), "cost_basis": CostBasis.TOTAL}


@pytest.mark.django_db
@pytest.mark.usefixtures("wednesday")
class TestPrefill:
    def test_a_per_unit_cost_and_a_total_are_never_added_up(self, routed, ops_member, stores_member):
        assessments = assess_both(routed, ops_member, stores_member, procurement=PER_UNIT_SURCHARGE, stores=OVERTIME)

        _, alternatives = selectors.alternatives_from_assessments(routed, assessments)

        assert [a["cost_delta"] for a in alternatives] == [None, None]  # not 1,802.10
        assert [a["cost_basis"] for a in alternatives] == ["", ""]

    def test_costs_of_one_kind_are_added_and_keep_their_basis_and_currency(self, routed, ops_member, stores_member):
        assessments = assess_both(
            routed, ops_member, stores_member,
            procurement={**PER_UNIT_SURCHARGE, "cost_impact": Decimal("400.00"), "cost_basis": CostBasis.TOTAL},
            stores=OVERTIME,
        )

        _, alternatives = selectors.alternatives_from_assessments(routed, assessments)

        assert {(a["cost_delta"], a["cost_basis"], a["cost_currency"]) for a in alternatives} == {
            (Decimal("2200.00"), CostBasis.TOTAL, "EUR")
        }

    def test_costs_in_two_currencies_are_not_added(self, routed, ops_member, stores_member):
        assessments = assess_both(
            routed, ops_member, stores_member,
            procurement={**PER_UNIT_SURCHARGE, "cost_impact": Decimal("400.00"), "cost_basis": CostBasis.TOTAL,
                         "cost_currency": "USD"},
            stores=OVERTIME,
        )

        _, alternatives = selectors.alternatives_from_assessments(routed, assessments)

        assert [a["cost_delta"] for a in alternatives] == [None, None]

    def test_each_alternative_works_around_the_constraint_of_the_department_it_gets_past(
        self, routed, ops_member, stores_member
    ):
        # Stores limits the quantity by 1 April (inventory); procurement sets the latest full date
        # (supplier lead time). One constraint for both alternatives would be wrong for one of them.
        assess(routed, "stores", stores_member, now=WEDNESDAY_1000, verdict=Verdict.CAN_WITH_CONDITIONS,
               quantity_feasible=Decimal(300), earliest_full_date=date(2026, 4, 10), constraints=["inventory"])
        assess(routed, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CAN_WITH_CONDITIONS,
               quantity_feasible=Decimal(450), earliest_full_date=date(2026, 4, 24), constraints=["supplier_lead_time"])

        decision, (split, full) = selectors.alternatives_from_assessments(routed, selectors.assessments_of(routed))

        assert decision == Decision.ALTERNATIVES
        assert (split["quantity"], split["works_around"]) == (Decimal(300), constraint("inventory"))
        assert (full["delivery_date"], full["works_around"]) == (date(2026, 4, 24), constraint("supplier_lead_time"))

    def test_the_composer_says_why_the_cost_delta_was_left_empty(self, client, routed, ops_lead, ops_member,
                                                                stores_member):
        assess_both(routed, ops_member, stores_member, procurement=PER_UNIT_SURCHARGE, stores=OVERTIME)
        client.force_login(ops_lead)

        page = client.post(reverse("analysis:answer_compose", args=[routed.pk]), {"action": "prefill"}).content.decode()

        assert "cost impacts are of different kinds" in page
        assert "2.10 EUR per unit" in page
        assert "1,800.00 EUR for all 500 pcs" in page
        assert "1802.10" not in page and "1,802.10" not in page

    def test_the_cost_delta_keeps_the_departments_currency_and_the_price_the_customers(
        self, client, routed, ops_lead, ops_member, stores_member
    ):
        # A dollar request whose departments cost in euros: the pre-filled alternative is priced in
        # USD (what the customer pays) and costs 2,200 EUR (what the departments said), not 2,200 USD.
        FeasibilityRequest.objects.filter(pk=routed.pk).update(currency="USD")
        assess_both(routed, ops_member, stores_member,
                    procurement={**PER_UNIT_SURCHARGE, "cost_impact": Decimal("400.00"), "cost_basis": CostBasis.TOTAL},
                    stores=OVERTIME)
        client.force_login(ops_lead)

        formset = client.post(reverse("analysis:answer_compose", args=[routed.pk]), {"action": "prefill"}).context["formset"]

        assert [(f["currency"].value(), f["cost_delta"].value(), f["cost_currency"].value()) for f in formset] == [
            ("USD", Decimal("2200.00"), "EUR"), ("USD", Decimal("2200.00"), "EUR"),
        ]


@pytest.mark.django_db
@pytest.mark.usefixtures("wednesday")
class TestBasisRequired:
    def test_a_cost_impact_without_its_basis_is_refused_with_a_message(self, routed, ops_member):
        with pytest.raises(ValidationError) as err:
            assess(routed, "procurement", ops_member, now=WEDNESDAY_1000, cost_impact=Decimal("2.10"))
        assert err.value.message_dict["cost_basis"] == ["Say whether the cost impact is per unit or for the whole quantity."]
        assert not Assessment.objects.get(request=routed, department__code="procurement").is_done

    def test_the_assessment_page_asks_for_the_basis_in_the_request_unit(self, client, routed, ops_member):
        client.force_login(ops_member)
        url = reverse("analysis:assessment_edit", args=[routed.pk, "procurement"])

        page = client.get(url).content.decode()
        response = client.post(url, {"verdict": "can", "cost_impact": "2.10", "cost_currency": "EUR", "version": 1})

        assert "per unit" in page and "for all 500 pcs" in page
        assert response.status_code == 200
        assert "Say whether the cost impact is per unit or for the whole quantity." in response.content.decode()
        assert 'value="2.10"' in response.content.decode()  # the input is kept

    def test_an_alternative_cost_delta_without_its_basis_is_refused(self, routed, ops_lead):
        alternative = {"quantity": Decimal(300), "delivery_date": APRIL_1, "currency": "EUR", "cost_delta": Decimal("90")}
        with pytest.raises(ValidationError, match="per unit or for the whole quantity"):
            services.answer_save_draft(request_id=routed.pk, actor=ops_lead, decision="", summary="", justification="",
                                       alternatives=[alternative], expected_version=None)
        assert not Answer.objects.exists()

    def test_the_database_refuses_a_cost_without_a_basis(self, routed):
        with pytest.raises(IntegrityError), transaction.atomic():
            Assessment.objects.filter(request=routed).update(cost_impact=Decimal(5), cost_basis="")


@pytest.mark.django_db
@pytest.mark.usefixtures("wednesday")
def test_sales_and_operations_read_what_each_amount_covers(client, routed, ops_lead, ops_member, rep):
    assess(routed, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CAN_WITH_CONDITIONS,
           quantity_feasible=Decimal(300), constraints=["material"], cost_impact=Decimal("2.10"),
           cost_basis=CostBasis.PER_UNIT)
    services.answer_publish(
        request_id=routed.pk, actor=ops_lead, expected_version=None, decision=Decision.ALTERNATIVES, summary="Split",
        justification="", now=WEDNESDAY_1000,
        alternatives=[{"quantity": Decimal(300), "delivery_date": APRIL_1, "currency": "EUR", "price": Decimal("13.40"),
                       "cost_delta": Decimal("630.00"), "cost_basis": CostBasis.TOTAL, "recommended": True}],
    )
    client.force_login(ops_lead)
    as_lead = client.get(routed.get_absolute_url()).content.decode()
    client.force_login(rep)
    as_rep = client.get(routed.get_absolute_url()).content.decode()

    assert "13.40 EUR per unit" in as_lead and "13.40 EUR per unit" in as_rep
    assert "+630.00 EUR for all 300 pcs" in as_lead
    assert "2.10 EUR per unit" in as_lead
    assert "630.00" not in as_rep and "2.10" not in as_rep  # costs stay internal to Operations


@pytest.mark.django_db
@pytest.mark.usefixtures("wednesday")
def test_a_price_and_a_cost_delta_in_two_currencies_are_kept_and_shown_apart(client, routed, ops_lead, rep):
    client.force_login(ops_lead)
    url = reverse("analysis:answer_compose", args=[routed.pk])

    saved = client.post(url, compose_post(action="publish", **{
        "alt-0-currency": "USD", "alt-0-price": "13.40",
        "alt-0-cost_delta": "630", "alt-0-cost_basis": "total", "alt-0-cost_currency": "EUR",
    }))

    assert saved.status_code == 302
    assert list(Alternative.objects.values_list("price", "currency", "cost_delta", "cost_currency")) == [
        (Decimal("13.40"), "USD", Decimal("630.00"), "EUR")
    ]
    as_lead = client.get(routed.get_absolute_url()).content.decode()
    assert "13.40 USD per unit" in as_lead and "+630.00 EUR for all 300 pcs" in as_lead
    assert "630.00 USD" not in as_lead
    client.force_login(rep)
    as_rep = client.get(routed.get_absolute_url()).content.decode()
    assert "13.40 USD per unit" in as_rep and "630" not in as_rep and "cost_currency" not in as_rep


# ---------------------------------------------------------------------------------------------
# The composer: one more alternative at a time, never an unbounded number


def compose_post(**extra) -> dict:
    data = {"decision": "alternatives", "summary": "Split", "justification": "", "version": "",
            "alt-TOTAL_FORMS": "1", "alt-INITIAL_FORMS": "0", "alt-MIN_NUM_FORMS": "0", "alt-MAX_NUM_FORMS": "20",
            "alt-0-quantity": "300", "alt-0-delivery_date": "2026-04-01", "alt-0-currency": "EUR"}
    data.update(extra)
    return data


@pytest.mark.django_db
@pytest.mark.usefixtures("wednesday")
def test_add_an_alternative_keeps_what_was_typed_and_offers_one_more_empty_row(client, routed, ops_lead):
    client.force_login(ops_lead)
    url = reverse("analysis:answer_compose", args=[routed.pk])

    first = client.get(url)
    added = client.post(url, compose_post(action="add"))

    assert first.context["formset"].total_form_count() == 1  # one empty row to start with, not a fixed number
    assert "Add an alternative" in first.content.decode()
    formset = added.context["formset"]
    assert formset.total_form_count() == 2
    page = added.content.decode()
    assert 'name="alt-0-quantity" value="300"' in page and 'name="alt-1-quantity"' in page
    assert "This field is required" not in page  # the new row is not an error
    assert not Answer.objects.exists()  # adding a row saves nothing

    saved = client.post(url, compose_post(action="save", **{
        "alt-TOTAL_FORMS": "2", "alt-1-quantity": "500", "alt-1-delivery_date": "2026-04-20", "alt-1-currency": "EUR",
        "alt-1-cost_delta": "120", "alt-1-cost_basis": "per_unit",
    }))
    assert saved.status_code == 302
    assert list(Alternative.objects.values_list("quantity", "cost_basis")) == [(Decimal(300), ""), (Decimal(500), "per_unit")]


@pytest.mark.django_db
@pytest.mark.usefixtures("wednesday")
def test_a_forged_number_of_alternatives_is_refused_quickly(client, routed, ops_lead):
    client.force_login(ops_lead)
    url = reverse("analysis:answer_compose", args=[routed.pk])

    response = client.post(url, compose_post(action="save", **{"alt-TOTAL_FORMS": "99999999999999999999"}))

    assert response.status_code == 200
    assert "Please submit at most 20 forms." in response.content.decode()
    # Not 1,020 forms built (8.6 s, finding F14): the work is bounded by the maximum, not the forged count.
    assert response.context["formset"].total_form_count() == 20
    assert not Answer.objects.exists()


# ---------------------------------------------------------------------------------------------
# The data migration for costs recorded before the basis existed

BASIS_MIGRATION = ("analysis", "0005_costs_say_their_basis")


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def before_basis():
    graph = MigrationExecutor(connection).loader.graph
    return [next(p.key for p in graph.node_map[BASIS_MIGRATION].parents if p.key[0] == "analysis")]


def latest():
    graph = MigrationExecutor(connection).loader.graph
    # Every app, not only the two migrated back: apps that depend on them (integrations) were
    # unapplied with them and must come back for the tests that run after this one.
    return graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_costs_recorded_before_the_basis_get_one_from_their_wording():
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    old = migrate(before_basis())
    try:
        user = old.get_model("auth", "User").objects.create(username="rita")
        customer = old.get_model("requests_app", "Customer").objects.create(name="Acme")
        req = old.get_model("requests_app", "FeasibilityRequest").objects.create(
            reference="S2O-M-9", status="answered", submitted_at=at, title="t", customer=customer, quantity=500,
            unit="kg", requested_date=APRIL_1, requested_by=user,
        )
        Department = old.get_model("requests_app", "Department")
        Assessment_ = old.get_model("analysis", "Assessment")

        def assessment(code, **fields):
            return Assessment_.objects.create(request=req, department=Department.objects.get(code=code), routed_at=at,
                                              request_submitted_at=at, **fields).pk

        surcharge = assessment("procurement", cost_impact=Decimal("2.10"), notes="Supplier adds 2.10 EUR per kg.")
        overtime = assessment("manufacturing", cost_impact=Decimal("1800"), notes="Two overtime shifts.")
        slash = assessment("stores", cost_impact=Decimal("0.40"), notes="Repacking, 0.40/unit")
        none = assessment("shipping", notes="Fine")
        answer = old.get_model("analysis", "Answer").objects.create(request=req, number=1)
        Alternative_ = old.get_model("analysis", "Alternative")
        alt_total = Alternative_.objects.create(answer=answer, quantity=500, delivery_date=APRIL_1,
                                                cost_delta=Decimal("900"), conditions="Air freight at cost.").pk
        alt_unit = Alternative_.objects.create(answer=answer, quantity=300, delivery_date=APRIL_1,
                                               cost_delta=Decimal("1.5"), conditions="Alloy at +1.50 a kg").pk
    finally:
        new = migrate(latest())

    bases = dict(new.get_model("analysis", "Assessment").objects.values_list("pk", "cost_basis"))
    assert bases == {surcharge: "per_unit", overtime: "total", slash: "per_unit", none: ""}
    alternatives = dict(new.get_model("analysis", "Alternative").objects.values_list("pk", "cost_basis"))
    assert alternatives == {alt_total: "total", alt_unit: "per_unit"}


COST_CURRENCY_MIGRATION = ("analysis", "0009_alternative_cost_currency")


@pytest.mark.django_db(transaction=True)
def test_cost_deltas_recorded_with_one_currency_keep_it_as_their_own():
    """Before the cost delta had a currency of its own, the alternative's one currency was that of
    its price and its cost delta: every recorded cost delta stays in it."""
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    graph = MigrationExecutor(connection).loader.graph
    before = [next(p.key for p in graph.node_map[COST_CURRENCY_MIGRATION].parents if p.key[0] == "analysis")]
    old = migrate(before)
    try:
        user = old.get_model("auth", "User").objects.create(username="rita")
        customer = old.get_model("requests_app", "Customer").objects.create(name="Acme")
        req = old.get_model("requests_app", "FeasibilityRequest").objects.create(
            reference="S2O-M-10", status="answered", submitted_at=at, title="t", customer=customer, quantity=500,
            unit="pcs", requested_date=APRIL_1, requested_by=user, currency="USD",
        )
        answer = old.get_model("analysis", "Answer").objects.create(request=req, number=1)
        Alternative_ = old.get_model("analysis", "Alternative")
        in_dollars = Alternative_.objects.create(answer=answer, quantity=500, delivery_date=APRIL_1, currency="USD",
                                                 price=Decimal("13.40"), cost_delta=Decimal("900"), cost_basis="total")
        in_pounds = Alternative_.objects.create(answer=answer, quantity=300, delivery_date=APRIL_1, currency="GBP",
                                                cost_delta=Decimal("1.50"), cost_basis="per_unit", position=1)
        in_euros = Alternative_.objects.create(answer=answer, quantity=200, delivery_date=APRIL_1, currency="EUR",
                                               cost_delta=Decimal("40"), cost_basis="total", position=2)
        History = old.get_model("analysis", "HistoricalAlternative")
        History.objects.create(id=in_dollars.pk, answer_id=answer.pk, quantity=500, delivery_date=APRIL_1,
                               currency="USD", cost_delta=Decimal("900"), cost_basis="total", recommended=False,
                               position=0, history_date=at, history_type="+")
    finally:
        new = migrate(latest())

    costs = dict(new.get_model("analysis", "Alternative").objects.values_list("pk", "cost_currency"))
    assert costs == {in_dollars.pk: "USD", in_pounds.pk: "GBP", in_euros.pk: "EUR"}
    assert list(new.get_model("analysis", "HistoricalAlternative").objects.values_list("cost_currency", flat=True)) == ["USD"]
