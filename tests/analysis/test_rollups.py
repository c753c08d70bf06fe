"""The capability-gap Pareto's rollup (ConstraintHit) follows every write that changes its
definition — through the services and through the admin — rolls back with a failed write, and the
`constraint_hits` command finds and repairs any drift."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.forms import MultiWidget
from django.urls import reverse

from analysis import metrics, rollups, services
from analysis.models import Answer, Assessment, ConstraintHit, Decision, Verdict
from requests_app.lifecycle import ConflictError
from tests.analysis.ops_helpers import MONDAY_0900, MONDAY_1000, acknowledge, assess, constraint, file_request

pytestmark = pytest.mark.django_db

WEDNESDAY_1000 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def hits(req) -> set[tuple[str, bool, bool]]:
    """(constraint code, blocked, bent) of the request's rows."""
    return set(
        ConstraintHit.objects.filter(request=req).values_list("constraint__code", "blocked", "bent")
    )


@pytest.fixture
def routed(rep, customer, ops_lead):
    with time_machine.travel(MONDAY_0900, tick=False):
        req = file_request(rep, customer, now=MONDAY_0900, requested_date=date(2026, 4, 1))
    with time_machine.travel(MONDAY_1000, tick=False):
        acknowledge(req, ops_lead, now=MONDAY_1000, departments=["procurement", "stores"])
    req.refresh_from_db()
    return req


@pytest.fixture
def wednesday():
    with time_machine.travel(WEDNESDAY_1000, tick=False):
        yield


def alternative(works_around: str | None) -> dict:
    return {"quantity": Decimal(300), "delivery_date": date(2026, 4, 20), "currency": "EUR", "conditions": "",
            "recommended": False, "price": None, "cost_delta": None,
            "works_around": constraint(works_around) if works_around else None}


@pytest.mark.usefixtures("wednesday")
class TestServicesKeepTheRollup:
    def test_a_cannot_verdict_blocks_each_constraint_it_cites_and_a_correction_replaces_them(
        self, routed, ops_member
    ):
        assess(routed, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CANNOT,
               quantity_feasible=Decimal(0), constraints=["material", "tooling"])
        assert hits(routed) == {("material", True, False), ("tooling", True, False)}

        # Corrected to "can, with conditions": a condition is not a block.
        assess(routed, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CAN_WITH_CONDITIONS,
               constraints=["material"])
        assert hits(routed) == set()

    def test_two_departments_citing_one_constraint_make_one_row(self, routed, ops_member, stores_member):
        assess(routed, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CANNOT,
               quantity_feasible=Decimal(0), constraints=["material"])
        assess(routed, "stores", stores_member, now=WEDNESDAY_1000, verdict=Verdict.CANNOT,
               quantity_feasible=Decimal(0), constraints=["material", "inventory"])
        assert hits(routed) == {("material", True, False), ("inventory", True, False)}

    def test_alternatives_count_once_the_answer_is_published_not_while_drafted(self, routed, ops_member, ops_lead,
                                                                                stores_member):
        assess(routed, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CANNOT,
               quantity_feasible=Decimal(0), constraints=["material"])
        assess(routed, "stores", stores_member, now=WEDNESDAY_1000)
        fields = {"decision": Decision.ALTERNATIVES, "summary": "Split it", "justification": "",
                  "alternatives": [alternative("material"), alternative("freight"), alternative(None)]}
        draft = services.answer_save_draft(request_id=routed.pk, actor=ops_lead, expected_version=None,
                                           now=WEDNESDAY_1000, **fields)
        assert hits(routed) == {("material", True, False)}  # Sales has not seen the draft: nothing bent yet

        services.answer_publish(request_id=routed.pk, actor=ops_lead, now=WEDNESDAY_1000,
                                expected_version=draft.version, **fields)

        assert hits(routed) == {("material", True, True), ("freight", False, True)}

    def test_a_refused_write_leaves_the_rollup_as_it_was(self, routed, ops_member):
        first = assess(routed, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CANNOT,
                       quantity_feasible=Decimal(0), constraints=["material"])
        stale_version = first.version - 1
        with pytest.raises(ConflictError):
            services.assessment_save(
                assessment_id=first.pk, actor=ops_member, now=WEDNESDAY_1000, expected_version=stale_version,
                data={"verdict": Verdict.CANNOT, "quantity_feasible": Decimal(0), "cost_currency": "EUR"},
                constraints=[constraint("tooling")],
            )
        assert hits(routed) == {("material", True, False)}


def post_data(response) -> dict:
    """The admin change form's current values, as the browser would post them back."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, MultiWidget):
            for i, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{i}"] = "" if part is None else part
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif value is not None:
            data[name] = value
    return data


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.mark.usefixtures("wednesday")
class TestAdminEditsKeepTheRollup:
    def test_changing_the_cited_constraints_in_the_admin(self, routed, ops_member, admin_client):
        a = assess(routed, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CANNOT,
                   quantity_feasible=Decimal(0), constraints=["material"])
        url = reverse("admin:analysis_assessment_change", args=[a.pk])
        data = post_data(admin_client.get(url))
        data["constraints"] = [str(constraint("labour").pk)]

        response = admin_client.post(url, data)

        assert response.status_code == 302, response.context["adminform"].form.errors
        assert hits(routed) == {("labour", True, False)}

    def test_deleting_an_assessment_in_the_admin(self, routed, ops_member, admin_client):
        a = assess(routed, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CANNOT,
                   quantity_feasible=Decimal(0), constraints=["material"])

        response = admin_client.post(reverse("admin:analysis_assessment_delete", args=[a.pk]), {"post": "yes"})

        assert response.status_code == 302
        assert hits(routed) == set()

    def test_deleting_answers_in_bulk_from_the_admin_list(self, routed, ops_member, ops_lead, stores_member,
                                                         admin_client):
        assess(routed, "procurement", ops_member, now=WEDNESDAY_1000)
        assess(routed, "stores", stores_member, now=WEDNESDAY_1000)
        answer = services.answer_publish(
            request_id=routed.pk, actor=ops_lead, now=WEDNESDAY_1000, expected_version=None,
            decision=Decision.ALTERNATIVES, summary="Later", justification="", alternatives=[alternative("freight")],
        )
        assert hits(routed) == {("freight", False, True)}

        admin_client.post(reverse("admin:analysis_answer_changelist"),
                          {"action": "delete_selected", "_selected_action": [answer.pk], "post": "yes"})

        assert not Answer.objects.exists()
        assert hits(routed) == set()


class TestCheckAndRebuild:
    @pytest.fixture
    def drifted(self, routed, ops_member):
        with time_machine.travel(WEDNESDAY_1000, tick=False):
            assess(routed, "procurement", ops_member, now=WEDNESDAY_1000, verdict=Verdict.CANNOT,
                   quantity_feasible=Decimal(0), constraints=["material"])
        # A write behind the application's back (an SQL fix, an import): the rollup does not know.
        Assessment.objects.filter(request=routed, department__code="procurement").update(verdict=Verdict.CAN)
        return routed

    def test_the_check_names_the_difference_and_fails(self, drifted, capsys):
        with pytest.raises(CommandError, match="1 constraint-hit rows differ"):
            call_command("constraint_hits")
        assert f"unexpected: request {drifted.pk}, material (blocked=True, bent=False)" in capsys.readouterr().err

    def test_rebuild_repairs_it_and_the_check_then_passes(self, drifted, capsys):
        call_command("constraint_hits", "--rebuild")
        assert hits(drifted) == set()
        call_command("constraint_hits")
        assert "match" in capsys.readouterr().out

    def test_the_dashboard_reads_the_rollup(self, drifted):
        """The Pareto reports what the rollup holds; after a rebuild, what the records say."""
        board = metrics.DashboardFilter(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
        assert [(r.code, r.blocked) for r in metrics.pareto(board)] == [("material", 1)]
        rollups.rebuild_constraint_hits()
        assert metrics.pareto(board) == []
