"""Who may see and do what, per role and per view. Out of scope is 404 on every view (ids must not
leak), including attachment downloads; in scope but read-only (a teammate, a manager, Operations
on Sales' actions) is 403. The matrix is checked against the URL resolver, so a new URL has to be
added here."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_app import services, urls
from requests_app.models import FeasibilityRequest, Status
from tests.requests_app.sales_factories import acknowledge, file_request, publish, route

PDF = b"%PDF-1.4\n%%EOF\n"

# url name → (method, POST data, the state its action needs); every per-request URL of requests_app
# must be here. Each action is tried on a request in a state where it is legal, so that only *who*
# decides whether it happens.
OBJECT_VIEWS = {
    "detail": ("get", {}, "answered"),
    "edit": ("get", {}, "answered"),
    "submit": ("post", {}, "draft"),
    "attachment": ("get", {}, "answered"),
    "comment": ("post", {"body": "Hello"}, "answered"),
    "reply": ("post", {"body": "Answer"}, "waiting"),
    "withdraw": ("post", {"reason": "x"}, "answered"),
    "close": ("post", {"outcome": "lost"}, "answered"),
    "decide": ("post", {"reason": "Need a second look"}, "answered"),
    "accept_alternative": ("post", {}, "answered"),
}
# Outcomes: "read" = the page (200); "done" = the POST changed the request (its status, version,
# timeline or comments) — a redirect alone proves nothing, a refusal is a redirect with a message
# too; "403" / "404" = that status and the request unchanged.
READ_ONLY = {"detail": "read", "attachment": "read", "edit": "403", "submit": "404"}  # a draft is its author's only
NOT_FOUND = {name: "404" for name in OBJECT_VIEWS}
EXPECTED = {
    # The author: every action of Sales; editing ends with the acknowledgement.
    "rep": {**{name: "done" for name in OBJECT_VIEWS}, "detail": "read", "attachment": "read", "edit": "403"},
    # Everything a rep can, on the team's requests — but a draft is still its author's only.
    "sales_manager": {**{name: "done" for name in OBJECT_VIEWS}, **READ_ONLY},
    "teammate": {**{name: "403" for name in OBJECT_VIEWS}, **READ_ONLY},
    # Operations (routed) and its lead read and comment; Sales' decisions are not theirs.
    "ops_member": {**{name: "403" for name in OBJECT_VIEWS}, **READ_ONLY, "comment": "done"},
    "ops_lead": {**{name: "403" for name in OBJECT_VIEWS}, **READ_ONLY, "comment": "done"},
    "manager": {**{name: "403" for name in OBJECT_VIEWS}, **READ_ONLY},
    "other_rep": NOT_FOUND,
    "stores_member": NOT_FOUND,  # Operations, but not routed to their department
    "nobody": NOT_FOUND,
}
CASES = [(who, view) for who, views in EXPECTED.items() for view in views]


def test_every_request_url_is_in_the_matrix():
    from analysis import urls_decisions

    patterns = [*urls.urlpatterns, *urls_decisions.urlpatterns]  # Sales' decisions live under the request's URL
    # "File again" changes no request (it copies one into a new draft of the caller's): its per-role
    # rules are tested in tests/analysis/test_improvements.py and the rulebook's table.
    per_request = {p.name for p in patterns if "<int:pk>" in str(p.pattern) and not p.name.startswith("notification")
                   and p.name != "file_again"}
    assert per_request == set(OBJECT_VIEWS)


def _with_attachment(rep, customer, product, *, submit: bool = True) -> FeasibilityRequest:
    req = file_request(rep, customer, product, submit=submit)
    services.attachments_add(req=req, actor=rep, uploads=[SimpleUploadedFile("drawing.pdf", PDF, content_type="application/pdf")])
    return req


@pytest.fixture
def answered(rep, ops_lead, customer, product, settings, tmp_path) -> FeasibilityRequest:
    """Team North's request, routed to procurement, answered with alternatives, one attachment."""
    settings.MEDIA_ROOT = tmp_path
    req = _with_attachment(rep, customer, product)
    route(req, "procurement")
    acknowledge(req, ops_lead)
    publish(req, ops_lead, alternatives=2)
    return FeasibilityRequest.objects.get(pk=req.pk)


@pytest.fixture
def waiting(rep, ops_lead, customer, product, settings, tmp_path) -> FeasibilityRequest:
    """Team North's request, routed to procurement, acknowledged, then a question to Sales."""
    settings.MEDIA_ROOT = tmp_path
    req = _with_attachment(rep, customer, product)
    route(req, "procurement")
    acknowledge(req, ops_lead)
    return services.clarification_ask(request_id=req.pk, actor=ops_lead, question="Which alloy?")


@pytest.fixture
def draft(rep, customer, product, settings, tmp_path) -> FeasibilityRequest:
    settings.MEDIA_ROOT = tmp_path
    return _with_attachment(rep, customer, product, submit=False)


def url_for(name: str, req: FeasibilityRequest) -> str:
    if name == "attachment":
        return reverse("requests_app:attachment", args=[req.pk, req.attachments.get().pk])
    if name == "decide":
        return reverse("decisions:decide", args=[req.pk, "revise"])
    if name == "accept_alternative":
        from analysis.decisions import current_answer

        return reverse("decisions:accept_alternative", args=[req.pk, current_answer(req).alternatives.first().pk])
    return reverse(f"requests_app:{name}", args=[req.pk])


def fingerprint(req: FeasibilityRequest) -> tuple:
    req.refresh_from_db()
    return req.status, req.version, req.events.count(), req.comments.count()


@pytest.mark.parametrize(("who", "view"), CASES, ids=[f"{w}-{v}" for w, v in CASES])
def test_each_role_on_each_view(client, request, who, view):
    method, data, state = OBJECT_VIEWS[view]
    req = request.getfixturevalue(state)
    before = fingerprint(req)
    client.force_login(request.getfixturevalue(who))
    response = getattr(client, method)(url_for(view, req), data)
    changed = fingerprint(req) != before
    if method == "get":
        seen = "read" if response.status_code == 200 else str(response.status_code)
    elif response.status_code in (200, 302):
        seen = "done" if changed else f"refused with {response.status_code} and nothing changed"
    else:
        seen = str(response.status_code)
        assert not changed, f"{who} {view}: {seen}, but the request changed"
    assert seen == EXPECTED[who][view]


def test_the_attachment_is_served_as_a_download_that_is_never_sniffed(client, rep, answered):
    client.force_login(rep)
    response = client.get(url_for("attachment", answered))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;") and "drawing.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_an_attachment_id_of_another_request_is_404(client, rep, answered, customer, product):
    other = file_request(rep, customer, product)
    client.force_login(rep)
    url = reverse("requests_app:attachment", args=[other.pk, answered.attachments.get().pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(("who", "expected"), [("rep", 200), ("sales_manager", 200), ("teammate", 403), ("other_rep", 404)])
def test_before_acknowledgement_the_author_and_their_manager_edit(client, request, rep, customer, product, who, expected):
    req = file_request(rep, customer, product)
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("requests_app:edit", args=[req.pk])).status_code == expected


@pytest.mark.parametrize("who", ["teammate", "sales_manager", "ops_lead", "manager", "other_rep"])
def test_a_draft_is_visible_to_its_author_only(client, request, rep, customer, product, who):
    draft = file_request(rep, customer, product, submit=False)
    client.force_login(rep)
    assert client.get(draft.get_absolute_url()).status_code == 200
    client.force_login(request.getfixturevalue(who))
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_a_manager_sees_the_team_s_requests_and_the_rep_does_not_see_another_team_s(client, sales_manager, other_rep, rep,
                                                                                    customer, product):
    team = file_request(rep, customer, product)
    foreign = file_request(other_rep, customer, product)
    client.force_login(sales_manager)
    assert client.get(team.get_absolute_url()).status_code == 200
    assert client.get(foreign.get_absolute_url()).status_code == 404


def test_a_non_existent_id_is_404_like_a_foreign_one(client, rep):
    client.force_login(rep)
    assert client.get(reverse("requests_app:detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("name", ["list", "create", "export", "notifications", "preferences"])
def test_anonymous_users_are_sent_to_log_in(client, name):
    response = client.get(reverse(f"requests_app:{name}"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_detail_urls_need_a_login_too(client, rep, customer, product):
    req = file_request(rep, customer, product)
    response = client.get(req.get_absolute_url())
    assert response.status_code == 302 and reverse("login") in response.url


@pytest.mark.parametrize(("who", "expected"), [("rep", 200), ("sales_manager", 200), ("ops_lead", 403), ("manager", 403),
                                               ("nobody", 403)])
def test_only_sales_files_requests(client, request, who, expected):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("requests_app:create")).status_code == expected


def test_operations_members_see_only_what_is_routed_to_them(client, ops_member, stores_member, rep, customer, product):
    req = file_request(rep, customer, product)
    route(req, "procurement")
    client.force_login(ops_member)
    assert client.get(req.get_absolute_url()).status_code == 200
    client.force_login(stores_member)
    assert client.get(req.get_absolute_url()).status_code == 404
    assert FeasibilityRequest.objects.get(pk=req.pk).status == Status.SUBMITTED


def test_someone_else_s_notification_is_404(client, rep, ops_lead, customer, product):
    from requests_app.models import Notification

    file_request(rep, customer, product)
    note = Notification.objects.get(user=ops_lead)
    client.force_login(rep)
    assert client.get(reverse("requests_app:notification_open", args=[note.pk])).status_code == 404
    client.post(reverse("requests_app:notifications"), {"id": note.pk})
    note.refresh_from_db()
    assert note.read_at is None


def test_sales_land_on_their_own_work(client, rep):
    client.force_login(rep)
    assert client.get(reverse("home")).url == reverse("requests_app:my_work")
