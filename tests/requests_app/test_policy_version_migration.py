"""The data migration that introduced policy versions: clocks already running keep the policy in
force (version 1 of their priority), and reminders already in the ledger are keyed by the value
of their threshold instead of its position, so none is sent again or lost."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

MINE = [("requests_app", "0003_sla_policy_versions"), ("analysis", "0002_clocks_keep_their_policy")]
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def before_mine() -> list[tuple[str, str]]:
    graph = MigrationExecutor(connection).loader.graph
    return [next(p.key for p in graph.node_map[node].parents if p.key[0] == node[0] and p.key not in MINE) for node in MINE]


def latest() -> list[tuple[str, str]]:
    graph = MigrationExecutor(connection).loader.graph
    # Every app, not only the two migrated back: apps that depend on them (integrations) were
    # unapplied with them and must come back for the tests that run after this one.
    return graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_running_clocks_keep_the_policy_in_force_and_reminders_keep_their_threshold():
    old = migrate(before_mine())
    try:
        policy = old.get_model("requests_app", "SlaPolicy").objects.get(priority="urgent")
        assert policy.reminder_thresholds == [0.5, 0.8]
        user = old.get_model("auth", "User").objects.create(username="rita")
        customer = old.get_model("requests_app", "Customer").objects.create(name="Acme")
        Request = old.get_model("requests_app", "FeasibilityRequest")
        common = {"title": "t", "customer": customer, "quantity": 1, "requested_date": date(2026, 4, 1), "requested_by": user,
                  "priority": "urgent"}
        running = Request.objects.create(reference="S2O-M-1", status="in_analysis", submitted_at=AT, **common)
        draft = Request.objects.create(status="draft", **common)
        department = old.get_model("requests_app", "Department").objects.get(code="stores")
        assessment = old.get_model("analysis", "Assessment").objects.create(
            request=running, department=department, routed_at=AT, request_submitted_at=AT
        )
        Ledger = old.get_model("analysis", "ReminderLedger")
        for seq in (1, 2, 3):  # the third names a position a shorter list no longer has
            Ledger.objects.create(request=running, clock="answer", scope="", kind="reminder", seq=seq, due_at=AT)
        Ledger.objects.create(request=running, clock="answer", scope="", kind="escalation", seq=1, due_at=AT)
        Ledger.objects.create(request=running, assessment=assessment, clock="department", scope="stores", kind="reminder",
                              seq=1, due_at=AT)
    finally:
        new = migrate(latest())

    Request = new.get_model("requests_app", "FeasibilityRequest")
    assert Request.objects.get(pk=running.pk).sla_policy_id == policy.pk
    assert Request.objects.get(pk=draft.pk).sla_policy_id is None  # no clock yet: it gets the version current at submission
    assert new.get_model("analysis", "Assessment").objects.get(pk=assessment.pk).sla_policy_id == policy.pk
    rows = new.get_model("analysis", "ReminderLedger").objects.order_by("pk").values_list("clock", "kind", "threshold", "seq")
    assert list(rows) == [
        ("answer", "reminder", Decimal("0.500"), 0),
        ("answer", "reminder", Decimal("0.800"), 0),
        ("answer", "reminder", Decimal("0.999"), 0),
        ("answer", "escalation", Decimal("0.000"), 1),
        ("department", "reminder", Decimal("0.500"), 0),
    ]
