"""The rulebook: who may do what, as named predicates (the `rules` package).

Every service takes the acting user (`actor=`) and calls `require(actor, "s2o.<perm>", obj)` before
it changes anything; views, the API, commands, tasks and e-mail replies call the services and
translate `NotAllowed` (a `PermissionDenied`, so an uncaught one is a 403 page that shows its
message). Reading is scoped separately: `selectors.get_request_for` answers 404 for what a user may
not see, so ids never leak.

A permission says *who* (a role, and the person's relation to the object). *When* (the request's
state) is the services' business: a state that does not allow the action is a `TransitionError`
or a `ValidationError`, not a refusal of the person. Pages show an action where both hold:
`offers(user, req)` is that context, built from the same permissions and the state rules of
`lifecycle` and the model, so no template re-implements a check.

Operations' objects (assessments) are read duck-typed (`department_id`, `owner_id`, `request`):
this module belongs to `requests_app` and never imports `analysis`.

Who holds each permission (DESIGN.md "Users and roles"):
- view_request: whoever `selectors.request_scope_q` lets read it;
- file_request: Sales;
- edit_request, withdraw_request, close_request, reply_clarification, decide_answer,
  accept_alternative: the author, or a sales manager of the request's team once it is submitted
  (teammates read, they do not act);
- submit_request: the author;
- copy_request ("file again": a new draft of one's own from a request one sees): Sales;
- comment_request: the author or their sales manager, and Operations people who can see it;
- acknowledge_request, route_request, extend_answer_by, answer_request: operations leads;
- assess_department (an assessment): members of that department, or the assessment's owner;
- ask_clarification: Operations people who can see the request;
- read_internals (department notes, cost impacts, assessors, alternatives' cost deltas):
  Operations people who can see the request, and managers;
- view_precedents (similar earlier requests, limited to those the reader sees): Sales, Operations
  and managers;
- view_improvements: Operations and managers; manage_improvements (open and move improvement
  actions on a constraint): operations leads and managers;
- view_triage: operations leads and managers; view_department_queue: Operations;
- manage_sla, view_dashboard, manage_exchange_rates: managers;
- view_master_data (customers, products): anyone with a role; add_customer: Sales (as when
  filing), operations leads and managers; add_product: operations leads and managers (the catalogue
  is Operations'; Sales describes a part that is not in it).
- search_customers, search_products (the pickers' searches): everyone with a role;
  search_reps: managers.
"""

from __future__ import annotations

from typing import Any

import rules
from django.core.exceptions import PermissionDenied
from rules.predicates import Predicate

from requests_app import lifecycle, roles
from requests_app.models import FeasibilityRequest, Outcome, RequestEvent, Status

Kind = RequestEvent.Kind


class NotAllowed(PermissionDenied):
    """The acting user may not do this (to this object). The message is shown to them as is."""


# ---------------------------------------------------------------------------------------------
# Role predicates (whole-site roles, no object)

is_sales = rules.predicate(roles.is_sales, name="is_sales")
is_sales_manager = rules.predicate(roles.is_sales_manager, name="is_sales_manager")
is_ops = rules.predicate(roles.is_ops, name="is_ops")
is_ops_lead = rules.predicate(roles.is_ops_lead, name="is_ops_lead")
is_manager = rules.predicate(roles.is_manager, name="is_manager")


# ---------------------------------------------------------------------------------------------
# Relation predicates: the person and this request (or assessment)


def _request_of(obj: Any) -> FeasibilityRequest | None:
    """The request itself, or the request an Operations object (an assessment) belongs to."""
    if obj is None or isinstance(obj, FeasibilityRequest):
        return obj
    return getattr(obj, "request", None)


@rules.predicate
def can_see(user: Any, obj: Any) -> bool:
    """The one scoping rule (`selectors.request_scope_q`), asked of one row."""
    from requests_app.selectors import known_visible, seen_by

    req = _request_of(obj)
    if req is None or req.pk is None:
        return False
    if known_visible(req, user):  # fetched through this user's scope (`selectors.get_request_for`)
        return True
    if FeasibilityRequest.objects.visible_to(user).filter(pk=req.pk).exists():
        seen_by(req, user)
        return True
    return False


@rules.predicate
def is_author(user: Any, obj: Any) -> bool:
    req = _request_of(obj)
    return req is not None and user.is_authenticated and req.requested_by_id == user.pk


@rules.predicate
def manages_team_of(user: Any, obj: Any) -> bool:
    """A sales manager acts on every submitted request of a team they belong to (drafts are the
    author's own until submitted)."""
    req = _request_of(obj)
    if req is None or not req.sales_team_id or req.status == Status.DRAFT or not roles.is_sales_manager(user):
        return False
    return user.sales_teams.filter(pk=req.sales_team_id).exists()


@rules.predicate
def works_on_department(user: Any, assessment: Any) -> bool:
    """A member of the assessment's department, or the person it was handed to."""
    if assessment is None or not hasattr(assessment, "department_id"):
        return False
    if assessment.owner_id is not None and assessment.owner_id == user.pk:
        return True
    known = getattr(assessment, _MEMBER_MEMO, None)
    if known is not None and known[0] == user.pk:
        return known[1]
    return user.departments.filter(pk=assessment.department_id).exists()


_MEMBER_MEMO = "_s2o_viewer_in_department"


def remember_department_member(assessment: Any, user: Any, member: bool) -> None:
    """Whether `user` belongs to the assessment's department, read with the assessment (a page of
    assessments asks `works_on_department` for each)."""
    setattr(assessment, _MEMBER_MEMO, (user.pk, bool(member)))


# The author, or their sales manager: who replies, decides, closes and withdraws. Teammates read.
acts_for_sales = is_author | manages_team_of


# ---------------------------------------------------------------------------------------------
# Permissions. Names follow "s2o.<verb>_<object>"; the message is what a refused user reads.

PERMISSIONS: dict[str, tuple[Predicate, str]] = {
    "s2o.view_request": (can_see, "You cannot see this request."),
    "s2o.file_request": (is_sales, "Only Sales files feasibility requests."),
    "s2o.copy_request": (is_sales & can_see, "Only Sales files a request again."),
    "s2o.edit_request": (acts_for_sales, "Only the author or their sales manager edits this request."),
    "s2o.submit_request": (is_author, "Only the author can submit a draft."),
    "s2o.withdraw_request": (acts_for_sales, "Only the author or their sales manager can withdraw this request."),
    "s2o.close_request": (acts_for_sales, "Only the author or their sales manager records the outcome."),
    "s2o.comment_request": (
        acts_for_sales | (is_ops & can_see),
        "Only the author, their sales manager and Operations comment on this request.",
    ),
    "s2o.reply_clarification": (
        acts_for_sales, "Only the author or their sales manager answers Operations' question.",
    ),
    "s2o.decide_answer": (acts_for_sales, "Only the author or their sales manager decides on the answer."),
    "s2o.accept_alternative": (acts_for_sales, "Only the author or their sales manager accepts an alternative."),
    "s2o.acknowledge_request": (is_ops_lead, "Only an operations lead acknowledges a request."),
    "s2o.route_request": (is_ops_lead, "Only an operations lead routes a request to departments."),
    "s2o.extend_answer_by": (is_ops_lead, "Only an operations lead moves the answer-by."),
    "s2o.answer_request": (is_ops_lead, "Only an operations lead composes and publishes the answer."),
    "s2o.assess_department": (
        is_ops & works_on_department, "Only members of this department can edit its assessment.",
    ),
    "s2o.ask_clarification": (
        is_ops & can_see, "Only Operations people working on this request can ask Sales a question.",
    ),
    "s2o.read_internals": (
        (is_ops | is_manager) & can_see, "Department notes and costs are internal to Operations and managers.",
    ),
    "s2o.view_precedents": (
        is_sales | is_ops | is_manager, "Similar earlier requests are for Sales, Operations and managers.",
    ),
    "s2o.view_improvements": (is_ops | is_manager, "Improvement actions are Operations' and managers' work."),
    "s2o.manage_improvements": (
        is_ops_lead | is_manager, "Only operations leads and managers open and move improvement actions.",
    ),
    "s2o.view_triage": (is_ops_lead | is_manager, "The triage queue is for operations leads."),
    "s2o.view_department_queue": (is_ops, "The department queue is for operations members."),
    "s2o.manage_sla": (is_manager, "SLA policies and calendars are edited by managers."),
    "s2o.view_dashboard": (is_manager, "The dashboard is for managers."),
    "s2o.manage_exchange_rates": (is_manager, "Exchange rates are kept by managers."),
    "s2o.manage_webhooks": (is_manager, "Webhooks are set up by managers."),
    "s2o.view_master_data": (
        is_sales | is_ops | is_manager, "Customers and products are read by Sales, Operations and managers.",
    ),
    "s2o.add_customer": (is_sales | is_ops_lead | is_manager, "Customers are added by Sales, operations leads and managers."),
    "s2o.add_product": (is_ops_lead | is_manager, "Catalogue parts are added by operations leads and managers."),
    # The pickers' searches (`pickers`): the people who see the field. Customers and products
    # appear in the request form (Sales) and the list's filter (everyone with a role); reps only
    # in the dashboard's filter.
    "s2o.search_customers": (is_sales | is_ops | is_manager, "Customers are listed to people with a role in S2O."),
    "s2o.search_products": (is_sales | is_ops | is_manager, "Products are listed to people with a role in S2O."),
    "s2o.search_reps": (is_manager, "The list of reps is for managers (the dashboard's filter)."),
}

for _name, (_predicate, _message) in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)


def allowed(user: Any, perm: str, obj: Any = None) -> bool:
    """True when the rulebook lets `user` do `perm` (to `obj`). Superusers get no free pass here:
    an admin acts through the Django admin, not as Sales or Operations."""
    if perm not in PERMISSIONS:
        raise KeyError(f"No such permission in the rulebook: {perm}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(rules.has_perm(perm, user, obj))


def require(user: Any, perm: str, obj: Any = None) -> None:
    """Refuse with `NotAllowed` (and the permission's own message) unless `user` may do `perm`."""
    if not allowed(user, perm, obj):
        raise NotAllowed(PERMISSIONS[perm][1])


# ---------------------------------------------------------------------------------------------
# What a page offers: the permission, and the state rule the service applies (one definition
# each: lifecycle's transitions, the model's state properties, the recordable outcomes).


def _moves(req: FeasibilityRequest, to: str, kind: str) -> bool:
    """Lifecycle's table lets `kind` move the request from its state to `to` now."""
    return lifecycle.allows(req.status, to, kind)


WHEN: dict[str, Any] = {
    "s2o.edit_request": lambda req: req.is_editable,
    "s2o.submit_request": lambda req: _moves(req, Status.SUBMITTED, Kind.SUBMITTED),
    "s2o.withdraw_request": lambda req: _moves(req, Status.CLOSED, Kind.WITHDRAWN),
    "s2o.close_request": lambda req: bool(lifecycle.recordable_outcomes(req.status)),
    "s2o.comment_request": lambda req: req.status != Status.CLOSED,
    "s2o.reply_clarification": lambda req: _moves(req, Status.IN_ANALYSIS, Kind.CLARIFICATION_ANSWERED),
    "s2o.decide_answer": lambda req: _moves(req, Status.CLOSED, Kind.DECLINED),
    "s2o.accept_alternative": lambda req: _moves(req, Status.CLOSED, Kind.ALTERNATIVE_ACCEPTED),
    "s2o.acknowledge_request": lambda req: _moves(req, Status.IN_ANALYSIS, Kind.ACKNOWLEDGED),
    "s2o.route_request": lambda req: req.in_analysis,
    "s2o.extend_answer_by": lambda req: req.in_analysis,
    "s2o.answer_request": lambda req: req.in_analysis,
    "s2o.ask_clarification": lambda req: _moves(req, Status.WAITING_ON_SALES, Kind.CLARIFICATION_ASKED),
    "s2o.assess_department": lambda assessment: assessment.request.in_analysis,
}


def offered(user: Any, perm: str, obj: Any) -> bool:
    """Show this action on a page: the user may do it and the object's state lets it happen now."""
    when = WHEN.get(perm)
    return allowed(user, perm, obj) and (when is None or bool(when(obj)))


REQUEST_ACTIONS = (
    "edit_request", "submit_request", "withdraw_request", "close_request", "comment_request", "reply_clarification",
    "decide_answer", "accept_alternative", "acknowledge_request", "route_request", "extend_answer_by",
    "answer_request", "ask_clarification", "read_internals",
)


def offers(user: Any, req: FeasibilityRequest) -> dict[str, bool]:
    """The request page's actions for this user, e.g. `{% if actions.withdraw_request %}`."""
    return {name: offered(user, f"s2o.{name}", req) for name in REQUEST_ACTIONS}


def outcomes_offered(user: Any, req: FeasibilityRequest) -> list[Outcome]:
    """The outcomes "Record outcome" offers this user on this request (none: no form)."""
    if not allowed(user, "s2o.close_request", req):
        return []
    return lifecycle.recordable_outcomes(req.status)
