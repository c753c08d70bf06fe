"""Every URL the resolver knows × every role, on objects that belong to someone else, with the
expected outcome written by hand in the tables below (DESIGN.md "Users and roles"): the pages in
`EXPECTED`, the API under /api/v1/ in `API_EXPECTED`. The list of URLs is read from the resolver,
so a new URL without an entry here fails `test_every_url_has_an_entry` or
`test_every_api_url_has_an_entry`.

Outcomes: 200 (the page), "login" (sent to log in), "admin login" (sent to the admin's log-in),
403 (in scope but not allowed, says why), 404 (out of scope: ids do not leak), 405 (wrong method).
GET is tried on every URL; POST on the URLs that only accept POST, with an empty body, and then
nothing may have changed for a refused role (what an allowed POST does is pinned per view in
tests/requests_app/test_permissions.py and tests/test_rulebook.py).

The world: team North's rep (rita) filed three requests — submitted, in analysis (routed to
procurement), answered (with an attachment and two alternatives); rita has a notification and an
API token; a manager set up a webhook with one delivery.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from analysis import improvements
from analysis.models import Assessment, ConstraintCategory, ImprovementAction
from integrations.models import ApiToken, WebhookDelivery, WebhookEndpoint
from requests_app import services
from requests_app.models import (
    BusinessCalendar,
    CompanyClosure,
    FeasibilityRequest,
    Notification,
    RequestEvent,
    SlaPolicy,
)
from tests.conftest import aware
from tests.requests_app.sales_factories import acknowledge, file_request, publish, route

PDF = b"%PDF-1.4\n%%EOF\n"
MONDAY_1000 = aware(2026, 3, 2, 9, 0)
ROLES = ("anonymous", "rep", "teammate", "sales_manager", "other_rep", "ops_member", "stores_member", "ops_lead",
         "manager", "nobody")


def walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace or ""]))
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), ":".join(filter(None, [namespace, p.name or ""]))


def resolver_urls() -> dict[str, str]:
    """url name → route, for every pattern outside the Django admin (which is one rule, below) and
    the API (its own table)."""
    return {name: route for route, name in walk(get_resolver().url_patterns)
            if not route.startswith(("admin/", "api/v1/"))}


def resolver_api_urls() -> dict[str, str]:
    """url name → route, for every pattern of the API (the router adds format-suffix twins: one
    entry per name)."""
    return {name: route for route, name in walk(get_resolver().url_patterns) if route.startswith("api/v1/")}


def admin_routes() -> list[str]:
    return [route for route, _ in walk(get_resolver().url_patterns) if route.startswith("admin/")]


# ---------------------------------------------------------------------------------------------
# The table, by hand. Columns in this order:
#   anonymous  rep  teammate  sales_manager  other_rep  ops_member  stores_member  ops_lead  manager  nobody
# rep = the author (team North), teammate = team North, sales_manager = team North's manager,
# other_rep = team South, ops_member = procurement (routed), stores_member = stores (not routed),
# ops_lead = an operations lead (manufacturing), manager = reads everything, nobody = no role.
# "302+" = the POST did what it asks (something changed); any other outcome must change nothing.

EXPECTED: dict[str, tuple[str, str]] = {
    # Public: the log-in page, the health check, the API's description (public by choice: it
    # documents the API, every call of which needs a token); Mailgun's inbound hook answers 404
    # while replies by e-mail are not configured (they are not, in tests).
    "login": ("get", "200 302 302 302 302 302 302 302 302 302"),
    "healthz": ("get", "200 200 200 200 200 200 200 200 200 200"),
    "api-schema": ("get", "401 200 200 200 200 200 200 200 200 200"),
    "api-docs": ("get", "login 200 200 200 200 200 200 200 200 200"),
    "api-redoc": ("get", "login 200 200 200 200 200 200 200 200 200"),
    # The learning loop: forecasts, precedents and the pickers answer everyone with a role (each
    # filtered to what they may see); improvement actions are read by Operations and managers and
    # moved by leads and managers (the manager's action on the Pareto's material row, POSTed a
    # valid move to "in progress").
    # "File again" copies a request the reader may see into a new draft of their own (Sales only).
    # The API under /api/v1/ has its own table below.
    "analysis:forecast": ("get", "login 200 200 200 200 200 200 200 200 403"),
    "analysis:improvement_detail": ("get", "login 403 403 403 403 200 200 200 200 403"),
    "analysis:improvement_move": ("post", "login 403 403 403 403 403 403 302+ 302+ 403"),
    "analysis:improvement_new": ("get", "login 403 403 403 403 403 403 302 302 403"),
    "analysis:improvements": ("get", "login 403 403 403 403 200 200 200 200 403"),
    "analysis:precedents": ("get", "login 200 200 200 200 200 200 200 200 403"),
    "requests_app:file_again": ("post", "login 302+ 302+ 302+ 404 403 404 403 403 404"),
    "requests_app:pick": ("get", "login 200 200 200 200 200 200 200 200 403"),
    "mailgun_inbound": ("get", "404 404 404 404 404 404 404 404 404 404"),
    "mailgun_inbound_mime": ("get", "404 404 404 404 404 404 404 404 404 404"),
    # Every logged-in user: their start page (someone without a role is told so there), their
    # password, notifications, preferences, and lists scoped to what they may see.
    "home": ("get", "login 302 302 302 302 302 302 302 302 200"),
    "logout": ("post", "login login login login login login login login login login"),
    "password_change": ("get", "login 200 200 200 200 200 200 200 200 200"),
    "password_change_done": ("get", "login 200 200 200 200 200 200 200 200 200"),
    "requests_app:list": ("get", "login 200 200 200 200 200 200 200 200 200"),
    "requests_app:export": ("get", "login 200 200 200 200 200 200 200 200 200"),
    "requests_app:notifications": ("get", "login 200 200 200 200 200 200 200 200 200"),
    "requests_app:preferences": ("get", "login 200 200 200 200 200 200 200 200 200"),
    "requests_app:my_work": ("get", "login 200 200 200 200 403 403 403 403 403"),  # a Sales person's own work
    # rita's notification opens for rita only (it leads to the request).
    "requests_app:notification_open": ("get", "login 302+ 404 404 404 404 404 404 404 404"),  # and marks it read
    # Sales files; Operations, managers and people without a role do not.
    "requests_app:create": ("get", "login 200 200 200 200 403 403 403 403 403"),
    # The answered request of team North: readable by the team, the routed department, the leads
    # and managers; invisible (404) to another team, a department it was not routed to, no role.
    "requests_app:detail": ("get", "login 200 200 200 404 200 404 200 200 404"),
    "requests_app:attachment": ("get", "login 200 200 200 404 200 404 200 200 404"),
    "requests_app:edit": ("get", "login 403 403 403 404 403 404 403 403 404"),  # acknowledged: nobody edits
    # Sales' actions, POSTed empty: the author and their manager get the form's error (400) or, for
    # submit (the request is no draft), the page back with a message; withdrawing and accepting need
# nothing more; everyone else is refused.
    "requests_app:submit": ("post", "login 302 403 403 404 403 404 403 403 404"),  # answered: not a draft
    "requests_app:comment": ("post", "login 400 403 400 404 400 404 400 403 404"),  # empty comment
    "requests_app:reply": ("post", "login 400 403 400 404 403 404 403 403 404"),
    "requests_app:withdraw": ("post", "login 302+ 403 302+ 404 403 404 403 403 404"),  # the reason is optional
    "requests_app:close": ("post", "login 400 403 400 404 403 404 403 403 404"),
    "decisions:decide": ("post", "login 400 403 400 404 403 404 403 403 404"),
    "decisions:accept_alternative": ("post", "login 302+ 403 302+ 404 403 404 403 403 404"),
    # Operations' pages: a lead acknowledges and routes the submitted request (not routed yet, so
    # invisible to departments); on the request in analysis (routed to procurement) the lead
    # answers and moves the answer-by, procurement assesses, both may ask Sales a question.
    "analysis:triage": ("get", "login 403 403 403 403 403 403 200 200 403"),
    "analysis:department_queue": ("get", "login 403 403 403 403 200 200 200 403 403"),
    # Bulk acknowledgement from the triage queue: leads only (an empty POST: the form's error).
    "analysis:triage_acknowledge": ("post", "login 403 403 403 403 403 403 400 403 403"),
    "analysis:acknowledge": ("get", "login 403 403 403 404 404 404 200 403 404"),
    "analysis:route": ("get", "login 403 403 403 404 404 404 302 403 404"),  # not acknowledged yet: sent there
    "analysis:answer_compose": ("get", "login 403 403 403 404 403 404 200 403 404"),
    "analysis:extend_answer_by": ("get", "login 403 403 403 404 403 404 200 403 404"),
    "analysis:assessment_edit": ("get", "login 403 403 403 404 200 404 403 403 404"),
    "analysis:clarification_ask": ("get", "login 403 403 403 404 200 404 200 403 404"),
    # Managers: dashboard, SLA policies and calendars, exchange rates, webhooks.
    "analysis:dashboard": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "analysis:dashboard_json": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "analysis:exchange_rates": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "analysis:sla_policies": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "analysis:sla_policy_edit": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "analysis:sla_calendar_create": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "analysis:sla_calendar_edit": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "analysis:sla_closure_add": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "analysis:sla_closure_delete": ("post", "login 403 403 403 403 403 403 403 302+ 403"),
    "integrations:webhooks": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "integrations:webhook_create": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "integrations:webhook_detail": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "integrations:delivery_detail": ("get", "login 403 403 403 403 403 403 403 200 403"),
    "integrations:delivery_resend": ("post", "login 403 403 403 403 403 403 403 302+ 403"),
    # API tokens: everyone makes their own (an empty name is refused); rita's token is revoked by
    # rita only — to anyone else it does not exist.
    "integrations:token_create": ("post", "login 400 400 400 400 400 400 400 400 400"),
    "integrations:token_revoke": ("post", "login 302+ 404 404 404 404 404 404 404 404"),
}


@pytest.fixture
def world(rep, teammate, sales_manager, other_rep, ops_member, stores_member, ops_lead, manager, nobody, customer, product,
          settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(MONDAY_1000, tick=False):
        submitted = file_request(rep, customer, product)
        analysing = file_request(rep, customer, product)
        route(analysing, "procurement")
        acknowledge(analysing, ops_lead)
        answered = file_request(rep, customer, product)
        services.attachments_add(req=answered, actor=rep,
                                 uploads=[SimpleUploadedFile("drawing.pdf", PDF, content_type="application/pdf")])
        route(answered, "procurement")
        acknowledge(answered, ops_lead)
        answer = publish(answered, ops_lead, alternatives=2)
        action = improvements.action_open(
            actor=manager, constraint=ConstraintCategory.objects.get(code="material"), title="Second supplier for M8",
            owner=manager, target_date=MONDAY_1000.date() + timedelta(days=30), expected_effect="Fewer material blocks",
            request_ids=[answered.pk],
        )
    calendar = BusinessCalendar.objects.get(is_default=True)
    closure = CompanyClosure.objects.create(calendar=calendar, start_date=MONDAY_1000.date() + timedelta(days=60),
                                            end_date=MONDAY_1000.date() + timedelta(days=61), reason="Stock-taking")
    endpoint = WebhookEndpoint.objects.create(url="https://erp.example.com/hook", secret="s" * 32, events=["submitted"],
                                              created_by=manager)
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="submitted", request=answered, payload={"x": 1})
    return {
        "submitted": submitted, "analysing": analysing, "answered": answered,
        "attachment": answered.attachments.get(), "alternative": answer.alternatives.first(),
        "notification": Notification.objects.create(user=rep, request=answered, kind="answered", message="Answered"),
        "token": ApiToken.objects.create(user=rep, name="CRM", prefix="abcd1234", token_hash="0" * 64),
        "policy": SlaPolicy.objects.filter(retired_at__isnull=True).order_by("pk").first(),
        "calendar": calendar, "closure": closure, "endpoint": endpoint, "delivery": delivery, "action": action,
    }


def kwargs_for(route: str, name: str, w: dict) -> dict:
    """Arguments for a URL's placeholders: objects of someone else (team North, rita, the manager)."""
    kwargs: dict[str, object] = {}
    if "<int:pk>" in route:
        if name.startswith(("requests_app:", "decisions:")):
            kwargs["pk"] = (w["notification"] if "notification" in name else w["answered"]).pk
        elif name in ("analysis:acknowledge", "analysis:route"):
            kwargs["pk"] = w["submitted"].pk
        elif name.startswith("analysis:sla_policy"):
            kwargs["pk"] = w["policy"].pk
        elif name.startswith("analysis:improvement_"):
            kwargs["pk"] = w["action"].pk
        elif name.startswith(("analysis:sla_calendar", "analysis:sla_closure")):
            kwargs["pk"] = w["calendar"].pk
        elif name.startswith("analysis:"):
            kwargs["pk"] = w["analysing"].pk
        elif name == "integrations:token_revoke":
            kwargs["pk"] = w["token"].pk
        elif name.startswith("integrations:webhook"):
            kwargs["pk"] = w["endpoint"].pk
        elif name.startswith("integrations:delivery"):
            kwargs["pk"] = w["delivery"].pk
        else:
            raise AssertionError(f"no object for {name} ({route})")
    if "<int:attachment_pk>" in route:
        kwargs["attachment_pk"] = w["attachment"].pk
    if "<int:alternative_pk>" in route:
        kwargs["alternative_pk"] = w["alternative"].pk
    if "<int:closure_pk>" in route:
        kwargs["closure_pk"] = w["closure"].pk
    if "<slug:code>" in route:
        kwargs["code"] = "procurement"
    if "<slug:source>" in route:
        kwargs["source"] = "customers"
    if "<slug:action>" in route:
        kwargs["action"] = "revise"
    return kwargs


def state(w: dict) -> tuple:
    """What a refused POST must leave as it was."""
    return (
        tuple(FeasibilityRequest.objects.order_by("pk").values_list("status", "version")),
        RequestEvent.objects.count(), Assessment.objects.filter(assessed_at__isnull=False).count(),
        ApiToken.objects.filter(revoked_at__isnull=True).count(), WebhookDelivery.objects.count(),
        CompanyClosure.objects.count(), Notification.objects.filter(read_at__isnull=False).count(),
        tuple(ImprovementAction.objects.order_by("pk").values_list("status", "version")),
    )


# What a POST sends where an empty body would stop at the form before the permission matters.
POST_BODIES = {
    "analysis:improvement_move": lambda w: {"to": "in_progress", "note": "AUTHZ", "version": w["action"].version},
}


def outcome(response) -> object:
    if response.status_code == 302:
        target = response.url
        if target.startswith(reverse("admin:login")):
            return "admin login"
        if target.startswith(reverse("login")):
            return "login"
        return 302
    return response.status_code




def test_every_url_has_an_entry():
    assert set(resolver_urls()) == set(EXPECTED), "a URL was added or removed: give it its row in EXPECTED"
    assert all(len(row.split()) == len(ROLES) for _, row in EXPECTED.values())


def login_as(client, request, role: str) -> None:
    client.logout()
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))


def test_each_role_on_each_url(client, request, world):
    """One world for the whole table (building it is the slow part); every (URL, role) meets it as
    it was, in a savepoint rolled back after the call."""
    urls = resolver_urls()
    wrong = []
    for name, (method, row) in sorted(EXPECTED.items()):
        url = reverse(name, kwargs=kwargs_for(urls[name], name, world))
        for role, wanted in zip(ROLES, row.split(), strict=True):
            with transaction.atomic():
                before = state(world)
                login_as(client, request, role)
                body = POST_BODIES[name](world) if name in POST_BODIES else {}
                got = str(outcome(getattr(client, method)(url, body)))
                if state(world) != before:
                    got += "+"
                transaction.set_rollback(True)
            if got != wanted:
                wrong.append(f"{name} as {role}: {got}, expected {wanted}")
    assert wrong == [], "\n".join(wrong)


def admin_url(route: str) -> str:
    for placeholder, value in (("<path:content_type_id>", "1"), ("<path:object_id>", "1"), ("<id>", "1"),
                               ("^([^/]+)/history/([^/]+)/$", "1/history/1/"),
                               ("^(?P<app_label>auth|axes|requests_app|analysis|integrations)/$", "auth/"),
                               ("(?P<url>.*)$", "anything/")):
        route = route.replace(placeholder, value)
    assert "<" not in route and "(" not in route, route
    return "/" + route


@pytest.mark.parametrize("role", ["anonymous", "manager", "ops_lead", "rep"])
def test_the_admin_is_for_staff_only_at_every_url(client, request, world, role):
    """One rule for the Django admin's ~190 URLs: only staff get in (no persona is staff); its own
    log-in page is open, its log-out sends back to the admin."""
    login_as(client, request, role)
    before = state(world)
    for admin_route in admin_routes():
        response = client.get(admin_url(admin_route))
        wanted = {"admin/login/": 200, "admin/logout/": 302}.get(admin_route, "admin login")
        assert outcome(response) == wanted, (admin_route, response.status_code)
    assert state(world) == before



# ---------------------------------------------------------------------------------------------
# The API, by hand, in the same columns. Every call carries the role's own token (anonymous: none,
# 401). Writes send a body the action would accept, so what decides is who asks, not the form: the
# author and team North's manager decide on rita's answered request ("200+": it changed), a team
# mate may read it but not act (403), another team, an unrouted department and no role never see
# it (404). Operations' writes meet the request in analysis, routed to procurement.

API_EXPECTED: dict[str, tuple[str, str]] = {
    "api:me": ("get", "401 200 200 200 200 200 200 200 200 200"),
    "api:dashboard": ("get", "401 403 403 403 403 403 403 403 200 403"),
    "api:request-list": ("get", "401 200 200 200 200 200 200 200 200 200"),
    "api:request-detail": ("get", "401 200 200 200 404 200 404 200 200 404"),
    "api:request-events": ("get", "401 200 200 200 404 200 404 200 200 404"),
    "api:request-comments": ("get", "401 200 200 200 404 200 404 200 200 404"),
    "api:request-answers": ("get", "401 200 200 200 404 200 404 200 200 404"),
    "api:request-assessments": ("get", "401 200 200 200 404 200 404 200 200 404"),
    "api:request-assessment": ("get", "401 200 200 200 404 200 404 200 200 404"),
    "api:request-answer-draft": ("get", "401 404 404 404 404 404 404 404 404 404"),
    "api:request-answer-publish": ("post", "401 403 403 403 404 403 404 409 403 404"),
    "api:request-submit": ("post", "401 409 403 403 404 403 404 403 403 404"),  # the author's own
    "api:request-reply": ("post", "401 409 403 409 404 403 404 403 403 404"),
    "api:request-withdraw": ("post", "401 200+ 403 200+ 404 403 404 403 403 404"),
    "api:request-outcome": ("post", "401 200+ 403 200+ 404 403 404 403 403 404"),
    "api:request-decision": ("post", "401 200+ 403 200+ 404 403 404 403 403 404"),
    "api:request-accept-alternative": ("post", "401 200+ 403 200+ 404 403 404 403 403 404"),
    "api:customer-list": ("get", "401 200 200 200 200 200 200 200 200 403"),
    "api:customer-detail": ("get", "401 200 200 200 200 200 200 200 200 403"),
    "api:product-list": ("get", "401 200 200 200 200 200 200 200 200 403"),
    "api:product-detail": ("get", "401 200 200 200 200 200 200 200 200 403"),
    "api:notification-list": ("get", "401 200 200 200 200 200 200 200 200 200"),
    "api:notification-read": ("post", "401 200+ 404 404 404 404 404 404 404 404"),
    # Each marks their own: rita hers, the lead the ones the filings sent; rita's stays unread for the rest.
    "api:notification-read-all": ("post", "401 200+ 200 200 200 200 200 200+ 200 200"),
}


def api_call(name: str, w: dict) -> tuple[str, dict]:
    """The URL of an API pattern on someone else's objects, and the body a write sends."""
    answered, analysing = w["answered"], w["analysing"]
    kwargs: dict[str, object] = {}
    route = resolver_api_urls()[name]
    if "(?P<reference>" in route:
        kwargs["reference"] = (analysing if name == "api:request-answer-publish" else answered).reference
    if "(?P<department>" in route:
        kwargs["department"] = "procurement"
    if "(?P<pk>" in route:
        kwargs["pk"] = {"api:customer-detail": w["customer"], "api:product-detail": w["product"],
                        "api:notification-read": w["notification"]}[name].pk
    body = {
        "api:request-answer-publish": {"version": analysing.version},
        "api:request-reply": {"body": "AUTHZ"},
        "api:request-withdraw": {"reason": "AUTHZ"},
        "api:request-outcome": {"outcome": "lost", "reason": "AUTHZ"},
        "api:request-decision": {"action": "decline", "reason": "AUTHZ"},
        "api:request-accept-alternative": {"alternative": w["alternative"].pk},
    }.get(name, {})
    return reverse(name, kwargs=kwargs), body


def test_every_api_url_has_an_entry():
    assert set(resolver_api_urls()) == set(API_EXPECTED), "an API URL was added or removed: give it its row"
    assert all(len(row.split()) == len(ROLES) for _, row in API_EXPECTED.values())


def test_each_role_on_each_api_url(request, world, customer, product):
    from tests.integrations.api_support import api

    world = {**world, "customer": customer, "product": product}
    clients = {role: api(None if role == "anonymous" else request.getfixturevalue(role)) for role in ROLES}
    wrong = []
    for name, (method, row) in sorted(API_EXPECTED.items()):
        url, body = api_call(name, world)
        for role, wanted in zip(ROLES, row.split(), strict=True):
            with transaction.atomic():
                before = state(world)
                response = getattr(clients[role], method)(url, body, format="json")
                got = str(response.status_code)
                if state(world) != before:
                    got += "+"
                transaction.set_rollback(True)
            if got != wanted:
                wrong.append(f"{name} as {role}: {got}, expected {wanted}")
    assert wrong == [], "\n".join(wrong)
