"""The rulebook below the views: every service, called directly as every role, on a request that
is theirs and one that is not. The expected table is written by hand from DESIGN.md "Users and
roles", not read from `requests_app.permissions`.

Each case puts the request in the state its action needs (so only *who* decides), calls the
service, and checks what a user would see: an allowed call changed the request, a refused one
raised `NotAllowed` and left everything as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis import decisions
from analysis import services as ops
from analysis.models import Alternative, Answer, Assessment, Verdict
from requests_app import permissions
from requests_app import services as sales
from requests_app.models import Department, FeasibilityRequest, Status
from tests.conftest import request_fields

pytestmark = pytest.mark.django_db

# Monday 2 March 2026, 10:00 in Berlin: working time of the default calendar.
MONDAY_1000 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = date(2026, 4, 15)

PERSONAS = ("rep", "teammate", "sales_manager", "other_rep", "ops_member", "stores_member", "ops_lead", "manager", "nobody")
# Who acts for Sales on team North's request: its author (rep) and the team's sales manager.
# Teammates read; another team's rep, a department the request is not routed to, managers and
# people without a role do nothing to it.
SALES_SIDE = {"rep", "sales_manager"}
LEADS = {"ops_lead"}


@pytest.fixture(autouse=True)
def monday():
    with time_machine.travel(MONDAY_1000, tick=False):
        yield


@dataclass
class World:
    rep: object
    ops_lead: object
    ops_member: object
    customer: object


# ---------------------------------------------------------------------------------------------
# Requests of rep (team North) in each state, reached through the services as the people allowed.


def draft(w: World) -> FeasibilityRequest:
    return sales.request_file(actor=w.rep, data=request_fields(w.customer, part_description="Custom bracket"),
                              token=uuid.uuid4(), submit=False).request


def submitted(w: World) -> FeasibilityRequest:
    return sales.request_submit(request_id=draft(w).pk, actor=w.rep)


def in_analysis(w: World) -> FeasibilityRequest:
    """Routed to procurement (ops_member's department) and shipping (nobody's here)."""
    req = submitted(w)
    return ops.request_acknowledge(request_id=req.pk, actor=w.ops_lead, departments=["procurement", "shipping"])


def waiting_on_sales(w: World) -> FeasibilityRequest:
    return sales.clarification_ask(request_id=in_analysis(w).pk, actor=w.ops_member, question="Which alloy?")


def alternative(**overrides) -> dict:
    return {"quantity": Decimal(300), "delivery_date": LATER, "currency": "EUR", "conditions": "Two deliveries",
            "recommended": True, "price": None, "cost_delta": Decimal("-40.00"),
            "cost_basis": "total", "works_around": None, **overrides}


def answered(w: World, decision: str = "alternatives") -> FeasibilityRequest:
    req = in_analysis(w)
    ops.answer_publish(request_id=req.pk, actor=w.ops_lead, expected_version=None, decision=decision,
                       summary="Here is what we can do", justification="",
                       alternatives=[alternative()] if decision == "alternatives" else [])
    return FeasibilityRequest.objects.get(pk=req.pk)


def answered_yes(w: World) -> FeasibilityRequest:
    return answered(w, "yes")


def assessment_of(req: FeasibilityRequest, code: str) -> Assessment:
    return Assessment.objects.get(request=req, department__code=code)


# ---------------------------------------------------------------------------------------------
# The table: service, the state it needs, the call, and who may make it (by hand, DESIGN.md).


@dataclass(frozen=True)
class Case:
    state: Callable[[World], FeasibilityRequest]
    call: Callable[[object, FeasibilityRequest], object]
    allowed: frozenset[str]


PDF = b"%PDF-1.4\n%%EOF\n"

CASES: dict[str, Case] = {
    # Sales files requests; nobody else does.
    "request_file": Case(
        submitted,
        lambda who, req: sales.request_file(actor=who, data=request_fields(req.customer, part_description="Another part"),
                                            token=uuid.uuid4(), submit=True),
        frozenset({"rep", "teammate", "sales_manager", "other_rep"}),
    ),
    # A draft is its author's alone (nobody else even sees it).
    "request_submit": Case(draft, lambda who, req: sales.request_submit(request_id=req.pk, actor=who), frozenset({"rep"})),
    "request_update": Case(
        submitted,
        lambda who, req: sales.request_update(req=req, actor=who, data={"customer": req.customer, "title": "Edited title"},
                                              expected_version=req.version),
        frozenset(SALES_SIDE),
    ),
    "attachments_add": Case(
        submitted,
        lambda who, req: sales.attachments_add(req=req, actor=who, uploads=[SimpleUploadedFile("d.pdf", PDF)]),
        frozenset(SALES_SIDE),
    ),
    "request_withdraw": Case(
        in_analysis, lambda who, req: sales.request_withdraw(request_id=req.pk, actor=who, reason="Cancelled"),
        frozenset(SALES_SIDE),
    ),
    # "File again": a new draft of one's own, copied from a request one sees (Sales only).
    "request_copy": Case(
        answered, lambda who, req: sales.request_copy(request_id=req.pk, actor=who),
        frozenset({"rep", "teammate", "sales_manager"}),
    ),
    "request_close": Case(
        answered,
        lambda who, req: sales.request_close(request_id=req.pk, actor=who, outcome="lost", reason="Went elsewhere"),
        frozenset(SALES_SIDE),
    ),
    # Comments: Sales' side and the Operations people working on it (routed department, leads).
    "comment_add": Case(
        in_analysis, lambda who, req: sales.comment_add(req=req, actor=who, body="A note"),
        frozenset(SALES_SIDE | {"ops_member", "ops_lead"}),
    ),
    # Operations asks Sales (a member of a routed department, or a lead); Sales' side replies.
    "clarification_ask": Case(
        in_analysis, lambda who, req: sales.clarification_ask(request_id=req.pk, actor=who, question="Which finish?"),
        frozenset({"ops_member", "ops_lead"}),
    ),
    "clarification_answer": Case(
        waiting_on_sales, lambda who, req: sales.clarification_answer(request_id=req.pk, actor=who, body="Brushed"),
        frozenset(SALES_SIDE),
    ),
    # The operations lead makes the promise, routes, moves the answer-by, composes and publishes.
    "request_acknowledge": Case(
        submitted, lambda who, req: ops.request_acknowledge(request_id=req.pk, actor=who, departments=["stores"]),
        frozenset(LEADS),
    ),
    "requests_acknowledge_bulk": Case(
        submitted,
        lambda who, req: ops.requests_acknowledge_bulk(
            request_ids=[req.pk], actor=who, departments=[Department.objects.get(code="stores")]
        ),
        frozenset(LEADS),
    ),
    "request_route": Case(
        in_analysis, lambda who, req: ops.request_route(request_id=req.pk, actor=who, departments=["stores"]),
        frozenset(LEADS),
    ),
    "answer_by_extend": Case(
        in_analysis,
        lambda who, req: ops.answer_by_extend(request_id=req.pk, actor=who, answer_due=req.answer_due + timedelta(days=7),
                                              reason="Waiting for a supplier quote"),
        frozenset(LEADS),
    ),
    "answer_save_draft": Case(
        in_analysis,
        lambda who, req: ops.answer_save_draft(request_id=req.pk, actor=who, decision="yes", summary="Yes",
                                               justification="", alternatives=[], expected_version=None),
        frozenset(LEADS),
    ),
    "answer_publish": Case(
        in_analysis,
        lambda who, req: ops.answer_publish(request_id=req.pk, actor=who, expected_version=None, decision="yes",
                                            summary="Yes", justification="", alternatives=[]),
        frozenset(LEADS),
    ),
    # A department's members write its assessment: procurement's is ops_member's; the lead belongs
    # to manufacturing; shipping's is nobody's here.
    "assessment_save (own department)": Case(
        in_analysis,
        lambda who, req: ops.assessment_save(assessment_id=assessment_of(req, "procurement").pk, actor=who,
                                             data={"verdict": Verdict.CAN}, constraints=[],
                                             expected_version=assessment_of(req, "procurement").version),
        frozenset({"ops_member"}),
    ),
    "assessment_save (another department)": Case(
        in_analysis,
        lambda who, req: ops.assessment_save(assessment_id=assessment_of(req, "shipping").pk, actor=who,
                                             data={"verdict": Verdict.CAN}, constraints=[],
                                             expected_version=assessment_of(req, "shipping").version),
        frozenset(),
    ),
    # Sales' side decides on the published answer.
    "answer_accept": Case(answered_yes, lambda who, req: decisions.answer_accept(request_id=req.pk, actor=who),
                          frozenset(SALES_SIDE)),
    "answer_decline": Case(
        answered, lambda who, req: decisions.answer_decline(request_id=req.pk, actor=who, reason="Too late"),
        frozenset(SALES_SIDE),
    ),
    "revision_request": Case(
        answered, lambda who, req: decisions.revision_request(request_id=req.pk, actor=who, reason="Two deliveries ok"),
        frozenset(SALES_SIDE),
    ),
    "alternative_accept": Case(
        answered,
        lambda who, req: decisions.alternative_accept(
            alternative_id=Alternative.objects.get(answer__request=req).pk, actor=who
        ),
        frozenset(SALES_SIDE),
    ),
}


def snapshot(req: FeasibilityRequest) -> tuple:
    """Everything a call could have changed, read back from the database."""
    row = FeasibilityRequest.objects.get(pk=req.pk)
    return (
        FeasibilityRequest.objects.count(),
        row.status, row.version, row.outcome, row.answer_due, row.title,
        row.events.count(), row.comments.count(), row.attachments.count(),
        list(Assessment.objects.filter(request=row).order_by("pk").values_list("department__code", "version", "verdict")),
        list(Answer.objects.filter(request=row).order_by("pk").values_list("number", "version", "published_at",
                                                                          "superseded_at")),
        list(Alternative.objects.filter(answer__request=row).values_list("accepted_at", flat=True)),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("service", list(CASES))
def test_every_service_asks_the_rulebook(request, settings, tmp_path, persona, service, rep, ops_lead, ops_member, customer,
                                         teammate, sales_manager, other_rep, stores_member, manager, nobody):
    settings.MEDIA_ROOT = tmp_path
    case = CASES[service]
    req = case.state(World(rep, ops_lead, ops_member, customer))
    who = request.getfixturevalue(persona)
    before = snapshot(req)

    if persona in case.allowed:
        case.call(who, req)
        assert snapshot(req) != before, f"{persona} may {service}, but nothing changed"
    else:
        with pytest.raises(permissions.NotAllowed) as refused:
            case.call(who, req)
        assert str(refused.value), "a refusal says why"
        assert snapshot(req) == before, f"{persona} was refused {service}, yet something changed"


# Master data is not an action on a request: who adds a customer (Sales, as when filing; leads and
# managers) and a catalogue part (leads and managers: the catalogue is Operations').
MASTER_DATA: dict[str, tuple[Callable, frozenset[str]]] = {
    "customer_create": (lambda who: sales.customer_create(actor=who, name=f"Customer of {who.username}"),
                        frozenset({"rep", "teammate", "sales_manager", "other_rep", "ops_lead", "manager"})),
    "product_create": (lambda who: sales.product_create(actor=who, sku=f"P-{who.username}", name="Part"),
                       frozenset({"ops_lead", "manager"})),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("service", list(MASTER_DATA))
def test_master_data_is_added_as_the_rulebook_says(request, persona, service, rep, ops_lead, ops_member, customer):
    from requests_app.models import Customer, Product

    call, allowed = MASTER_DATA[service]
    who = request.getfixturevalue(persona)
    before = (Customer.objects.count(), Product.objects.count())
    if persona in allowed:
        call(who)
        assert (Customer.objects.count(), Product.objects.count()) != before
    else:
        with pytest.raises(permissions.NotAllowed):
            call(who)
        assert (Customer.objects.count(), Product.objects.count()) == before


def test_the_table_covers_every_service_that_changes_a_request():
    """A new service must take its row in the table above (and ask the rulebook)."""
    import inspect

    from analysis import decisions as decisions_module
    from analysis import services as ops_module
    from requests_app import services as sales_module

    acting = {
        f"{module.__name__}.{name}"
        for module in (sales_module, ops_module, decisions_module)
        for name, fn in vars(module).items()
        if inspect.isfunction(fn) and fn.__module__ == module.__name__ and not name.startswith("_")
        and "actor" in inspect.signature(fn).parameters
    }
    covered = {name.split(" ")[0] for name in CASES} | set(MASTER_DATA)
    # Not actions on a request: staging a form's files and one's own preferences.
    own_things = {"staged_files", "staging_add", "profile_update"}
    assert {name.rsplit(".", 1)[1] for name in acting} - own_things == covered


# ---------------------------------------------------------------------------------------------
# Page permissions (no service yet writes these): by hand from DESIGN.md.

PAGES = {
    "s2o.view_dashboard": {"manager"},
    "s2o.manage_sla": {"manager"},
    "s2o.view_triage": {"ops_lead", "manager"},
    "s2o.view_department_queue": {"ops_member", "stores_member", "ops_lead"},
    "s2o.file_request": {"rep", "teammate", "sales_manager", "other_rep"},
}


@pytest.mark.parametrize("perm", sorted(PAGES))
def test_page_permissions_per_role(request, perm):
    holders = {p for p in PERSONAS if permissions.allowed(request.getfixturevalue(p), perm)}
    assert holders == PAGES[perm]


def test_a_superuser_gets_no_free_pass_as_sales_or_operations(rep, customer, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    req = submitted(World(rep, None, None, customer))
    with pytest.raises(permissions.NotAllowed):
        sales.request_withdraw(request_id=req.pk, actor=admin)
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.SUBMITTED


def test_a_deactivated_account_may_do_nothing_it_could_do_before(rep, customer):
    req = submitted(World(rep, None, None, customer))
    assert permissions.allowed(rep, "s2o.file_request") and permissions.allowed(rep, "s2o.withdraw_request", req)
    rep.is_active = False
    rep.save(update_fields=["is_active"])

    assert not permissions.allowed(rep, "s2o.file_request")
    assert not permissions.allowed(rep, "s2o.withdraw_request", req)
    with pytest.raises(permissions.NotAllowed):
        sales.request_withdraw(request_id=req.pk, actor=rep)
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.SUBMITTED


def test_a_refusal_says_who_may_do_it(ops_lead):
    with pytest.raises(permissions.NotAllowed) as refusal:
        permissions.require(ops_lead, "s2o.file_request")
    assert str(refusal.value) == "Only Sales files feasibility requests."


def test_a_permission_missing_from_the_rulebook_is_a_programming_error_not_a_refusal(rep):
    with pytest.raises(KeyError, match="^'No such permission in the rulebook: s2o.fly_request'$"):
        permissions.allowed(rep, "s2o.fly_request")


def test_record_outcome_offers_lost_and_evaporated_to_who_acts_for_sales_until_it_is_closed(rep, teammate, customer):
    w = World(rep, None, None, customer)
    open_request, a_draft = submitted(w), draft(w)
    assert permissions.outcomes_offered(rep, open_request) == ["lost", "evaporated"]
    assert permissions.outcomes_offered(teammate, open_request) == []  # teammates read
    assert permissions.outcomes_offered(rep, a_draft) == []  # a draft is withdrawn, not lost


# ---------------------------------------------------------------------------------------------
# What the request page offers: an action shows where the person may do it *and* the request's
# state lets it happen now (DESIGN.md "Lifecycle of a request"; by hand, not from `WHEN`).


def withdrawn(w: World) -> FeasibilityRequest:
    return sales.request_withdraw(request_id=submitted(w).pk, actor=w.rep, reason="Cancelled")


OFFERS_STATES = {
    "draft": draft, "submitted": submitted, "in_analysis": in_analysis, "waiting_on_sales": waiting_on_sales,
    "answered": answered, "closed": withdrawn,
}
# The author's buttons: edit until Operations acknowledges, submit a draft, withdraw until closed,
# record lost/evaporated once submitted, comment until closed, reply to a question, decide on an answer.
AUTHOR_OFFERS = {
    "draft": {"edit_request", "submit_request", "withdraw_request", "comment_request"},
    "submitted": {"edit_request", "withdraw_request", "close_request", "comment_request"},
    "in_analysis": {"withdraw_request", "close_request", "comment_request"},
    "waiting_on_sales": {"withdraw_request", "close_request", "comment_request", "reply_clarification"},
    "answered": {"withdraw_request", "close_request", "comment_request", "decide_answer", "accept_alternative"},
    "closed": set(),
}
# The operations lead's: acknowledge a submitted request (or ask about it first), route, move the
# answer-by and compose while the analysis is open (a question to Sales pauses the clock, not the
# work), ask while it is in analysis; internals always, comments until closed. A draft is unseen.
LEAD_OFFERS = {
    "draft": set(),
    "submitted": {"acknowledge_request", "ask_clarification", "comment_request", "read_internals"},
    "in_analysis": {"route_request", "extend_answer_by", "answer_request", "ask_clarification", "comment_request",
                    "read_internals"},
    "waiting_on_sales": {"route_request", "extend_answer_by", "answer_request", "comment_request", "read_internals"},
    "answered": {"comment_request", "read_internals"},
    "closed": {"read_internals"},
}


@pytest.mark.parametrize("state", list(OFFERS_STATES))
def test_the_request_page_offers_an_action_where_the_person_may_and_the_state_allows(state, rep, ops_lead, ops_member,
                                                                                     teammate, customer):
    req = OFFERS_STATES[state](World(rep, ops_lead, ops_member, customer))
    offered_to = {who: {name for name, shown in permissions.offers(user, req).items() if shown}
                  for who, user in (("rep", rep), ("ops_lead", ops_lead), ("teammate", teammate))}
    assert offered_to == {"rep": AUTHOR_OFFERS[state], "ops_lead": LEAD_OFFERS[state], "teammate": set()}


def test_a_department_member_edits_their_own_department_s_assessment_on_the_request_page(
        rep, ops_lead, ops_member, customer, django_assert_num_queries):
    from analysis.selectors import assessments_of, ops_panel

    req = in_analysis(World(rep, ops_lead, ops_member, customer))
    editable = ops_panel(req=req, user=ops_member).editable_assessments
    assert [a.department.code for a in editable] == ["procurement"]  # not shipping, routed too
    assert ops_panel(req=req, user=ops_lead).editable_assessments == []  # manufacturing is not routed
    # Membership is read with the page's assessments, not asked once per assessment shown.
    shown = assessments_of(req, viewer=ops_member)
    with django_assert_num_queries(0):
        assert [a.department.code for a in shown if permissions.offered(ops_member, "s2o.assess_department", a)] == [
            "procurement"]


def test_a_request_permission_asked_of_an_assessment_answers_for_the_request_it_belongs_to(rep, ops_lead, ops_member,
                                                                                          other_rep, customer):
    """Operations' objects are read as their request (the module's contract): whoever may act on or
    see the request may on its assessments, nobody else; an object of no request is no one's."""
    req = in_analysis(World(rep, ops_lead, ops_member, customer))
    assessment = assessment_of(req, "procurement")
    assert permissions.allowed(rep, "s2o.withdraw_request", assessment)
    assert permissions.allowed(ops_member, "s2o.read_internals", assessment)
    assert not permissions.allowed(other_rep, "s2o.view_request", assessment)
    assert not permissions.allowed(rep, "s2o.view_request", customer)
