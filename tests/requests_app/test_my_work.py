"""A Sales person's home: what needs their action first, then their open requests, then their team's;
the list's "mine / teammates'" and "waiting on" filters; the Due column never blank where someone must act."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from requests_app import services
from requests_app.models import FeasibilityRequest
from tests.requests_app.sales_factories import acknowledge, file_request, publish

HOME = reverse("requests_app:my_work")
LIST = reverse("requests_app:list")

# Monday 2 March 2026 in Berlin (CET, UTC+1): a plain working week.
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MON_1000 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MON_1400 = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
TUE_1100 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
WED_0900 = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)


def ask(req, lead, *, now, question="Which alloy, 6061 or 7075?"):
    return services.clarification_ask(request_id=req.pk, actor=lead, question=question, now=now)


def answered(req, lead, *, now):
    acknowledge(req, lead, now=now)
    publish(req, lead, now=now)
    return FeasibilityRequest.objects.get(pk=req.pk)


def section(response, name: str) -> list[str]:
    return [req.title for req, _state in getattr(response.context["home"], name).rows]


@pytest.fixture
def world(rep, teammate, other_rep, ops_lead, customer, product):
    """Rita's and Tom's requests (team North) and Olga's (team South) in every state Sales meets."""
    with time_machine.travel(MON_0900, tick=False):
        made = {
            "my draft": file_request(rep, customer, product, submit=False, title="my draft"),
            "my submitted": file_request(rep, customer, product, title="my submitted", now=MON_0900),
            "my in analysis": file_request(rep, customer, product, title="my in analysis", now=MON_0900),
            "my question": file_request(rep, customer, product, title="my question", now=MON_0900),
            "my answer": file_request(rep, customer, product, title="my answer", now=MON_0900),
            "tom submitted": file_request(teammate, customer, product, title="tom submitted", now=MON_0900),
            "tom question": file_request(teammate, customer, product, title="tom question", now=MON_0900),
            "olga question": file_request(other_rep, customer, product, title="olga question", now=MON_0900),
        }
    acknowledge(made["my in analysis"], ops_lead, now=MON_1000)
    answered(made["my answer"], ops_lead, now=MON_1000)  # waiting since Monday 10:00 CET
    ask(made["my question"], ops_lead, now=MON_1400)  # waiting since Monday 14:00 CET
    ask(made["tom question"], ops_lead, now=MON_1000)
    ask(made["olga question"], ops_lead, now=MON_1000)
    return made


def test_a_rep_sees_what_waits_for_them_first_then_their_open_requests_then_their_team_s(client, rep, world):
    client.force_login(rep)
    with time_machine.travel(TUE_1100, tick=False):
        client.force_login(rep)
        response = client.get(HOME)
    assert response.status_code == 200
    # The answer has waited since Monday 10:00, the question since 14:00: longest waiting first.
    assert section(response, "needs_action") == ["my answer", "my question"]
    # Open and still with Operations (or not yet sent), the soonest due first; the draft has no due time.
    assert set(section(response, "mine")) == {"my submitted", "my in analysis", "my draft"}
    assert section(response, "mine")[-1] == "my draft"
    # Tom's question is Tom's to answer: Rita sees it under her team, not as her own work.
    assert set(section(response, "team")) == {"tom submitted", "tom question"}
    html = response.content.decode()
    assert "olga question" not in html
    assert html.index("Needs my action") < html.index("My open requests") < html.index("My team's open requests")


def test_a_sales_manager_acts_on_the_team_s_questions_and_answers(client, sales_manager, world):
    with time_machine.travel(TUE_1100, tick=False):
        client.force_login(sales_manager)
        response = client.get(HOME)
    assert section(response, "needs_action") == ["my answer", "tom question", "my question"]
    assert set(section(response, "team")) == {"my submitted", "my in analysis", "tom submitted"}
    assert section(response, "mine") == []


def test_the_due_column_says_what_sales_must_do_and_since_when(client, rep, world):
    with time_machine.travel(TUE_1100, tick=False):
        client.force_login(rep)
        home = client.get(HOME).content.decode()
        listing = client.get(LIST, {"scope": "mine"}).content.decode()
    for html in (home, listing):
        assert "<strong>Sales:</strong> reply to Operations' question · waiting since" in html
        assert ">Mon 2 Mar 14:00</time>" in html  # the question, asked at 14:00 Berlin time
        assert "<strong>Sales:</strong> decide on the answer · waiting since" in html
        assert ">Mon 2 Mar 10:00</time>" in html  # the answer, published at 10:00 Berlin time
        assert "Draft: not submitted yet" in html
    assert "Which alloy, 6061 or 7075?" in home  # the question itself, on the home page


def test_an_operations_lead_reading_the_list_sees_who_must_act_too(client, ops_lead, world):
    with time_machine.travel(TUE_1100, tick=False):
        client.force_login(ops_lead)
        html = client.get(LIST, {"waiting_on": "sales", "q": "my question"}).content.decode()
    assert "<strong>Sales:</strong> reply to Operations' question · waiting since" in html
    assert "paused" in html  # the answer clock stands still meanwhile


def test_list_filters_mine_teammates_and_waiting_on(client, rep, world):
    client.force_login(rep)

    def titles(**params):
        return {req.title for req, _ in client.get(LIST, params).context["rows"]}

    assert titles(scope="mine") == {"my draft", "my submitted", "my in analysis", "my question", "my answer"}
    assert titles(scope="team") == {"tom submitted", "tom question"}
    assert titles(scope="mine", waiting_on="sales") == {"my question", "my answer"}
    assert titles(waiting_on="operations") == {"my submitted", "my in analysis", "tom submitted"}
    assert client.get(LIST, {"scope": "mine"}).context["heading"] == "My requests"


def test_the_mine_filter_is_not_offered_to_operations(client, ops_lead, world):
    client.force_login(ops_lead)
    response = client.get(LIST, {"scope": "mine"})
    assert "scope" not in response.context["filter"].form.fields
    assert len(response.context["rows"]) == 7  # every submitted request: "mine" means nothing here


def test_sections_show_ten_rows_and_a_link_to_the_rest_in_a_fixed_number_of_queries(client, rep, customer, product):
    with time_machine.travel(MON_0900, tick=False):
        file_request(rep, customer, product, title="first", now=MON_0900)
        client.force_login(rep)
        client.get(HOME)  # the session's first page also stamps it; measure the next one
        with CaptureQueriesContext(connection) as few:
            response = client.get(HOME)
        assert section(response, "mine") == ["first"] and not response.context["home"].mine.more
        for i in range(11):
            file_request(rep, customer, product, title=f"more {i}", now=MON_0900)
        with CaptureQueriesContext(connection) as many:
            response = client.get(HOME)
    assert len(section(response, "mine")) == 10 and response.context["home"].mine.more
    assert f'href="{LIST}?scope=mine&amp;sort=answer_due"' in response.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)


def test_operations_people_have_no_sales_home(client, ops_lead):
    client.force_login(ops_lead)
    assert client.get(HOME).status_code == 403


def test_the_home_is_where_a_rep_lands(client, rep):
    client.force_login(rep)
    assert client.get("/")["Location"] == HOME


def test_nothing_awaits_sales_while_operations_must_act(rep, ops_lead, customer, product):
    req = file_request(rep, customer, product, now=WED_0900)
    assert req.awaiting_sales is None
    acknowledge(req, ops_lead, now=WED_0900)
    assert FeasibilityRequest.objects.get(pk=req.pk).awaiting_sales is None
