"""The bench data generator writes consistent requests that the dashboard can read."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q
from django.urls import reverse

from analysis import rollups
from analysis.models import Alternative, Answer, Assessment, ConstraintHit, ImprovementAction
from requests_app import search
from requests_app.models import FeasibilityRequest, Pause, Status
from tests.conftest import is_postgres


def test_generator_refuses_to_run_on_sqlite(db):
    if is_postgres():
        pytest.skip("SQLite only")
    with pytest.raises(CommandError, match="SQLite"):
        call_command("generate_requests", 10)


def test_generator_creates_requests_along_the_lifecycle(postgres_only, client, manager):
    call_command("generate_requests", 2000, customers=50, reps=6, teams=2, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert FeasibilityRequest.objects.count() == 2000
    # Milestones only once reached, and in order.
    assert not FeasibilityRequest.objects.filter(status=Status.SUBMITTED, acknowledged_at__isnull=False).exists()
    assert not FeasibilityRequest.objects.filter(answered_at__lt=F("acknowledged_at")).exists()
    assert not FeasibilityRequest.objects.filter(~Q(status=Status.CLOSED), ~Q(outcome="")).exists()
    assert not FeasibilityRequest.objects.filter(answered_at__isnull=False, answer_met__isnull=True).exists()
    statuses = dict(FeasibilityRequest.objects.values_list("status").annotate(n=Count("id")))
    assert statuses[Status.CLOSED] > 1500
    assert Assessment.objects.filter(request__acknowledged_at__isnull=True).count() == 0
    assert Assessment.objects.filter(verdict="cannot", constraints__isnull=False).exists()
    assert Answer.objects.count() == FeasibilityRequest.objects.filter(answered_at__isnull=False).count()
    assert Alternative.objects.filter(works_around__isnull=False).exists()
    assert Pause.objects.exists()
    # The Pareto's rollup is written with the data, equal to its definition.
    assert ConstraintHit.objects.filter(blocked=True).exists() and ConstraintHit.objects.filter(bent=True).exists()
    assert rollups.constraint_hit_differences() == (0, [])
    # Realistic wording on bench parts, searchable, with improvement actions to show.
    sample = FeasibilityRequest.objects.order_by("pk").first()
    assert sample.title.startswith(f"{int(sample.quantity)} ") and "Customer asks for" in sample.description
    assert 0.6 < FeasibilityRequest.objects.filter(product__isnull=False).count() / 2000 < 0.8
    assert not FeasibilityRequest.objects.filter(search_document__isnull=True).exists()
    assert search.search_requests(FeasibilityRequest.objects.all(), "brackets", user=manager).exists()
    assert not FeasibilityRequest.objects.filter(acknowledged_at__isnull=False, answer_due_promised__isnull=True).exists()
    assert ImprovementAction.objects.filter(status="done").count() == 10
    assert ImprovementAction.objects.filter(status="in_progress").count() == 10
    client.force_login(manager)
    board = client.get(reverse("analysis:dashboard")).context["board"]
    assert board.current.filed > 100 and 0 < board.current.fill_rate < 100
    assert board.pareto[0].code == "supplier_lead_time"
