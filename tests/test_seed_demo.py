"""seed_demo: a login for every role and requests in every state, lived through the real services;
idempotent, and never on a production installation."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from analysis.models import Alternative, Answer, Assessment
from requests_app import roles
from requests_app.models import ClockEvent, Department, FeasibilityRequest, Outcome, Pause, RequestEvent, Role, Status

SMALL_RUN = 40  # the same code paths as the default 300, in a few seconds


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()
            if model._meta.app_label in {"auth", "requests_app", "analysis"}}


def test_seed_demo_refuses_to_run_outside_the_embedded_mode(db, settings):
    settings.DEVELOPMENT = False

    with pytest.raises(CommandError, match="embedded mode"):
        call_command("seed_demo", requests=SMALL_RUN)

    assert not User.objects.filter(username="rep1").exists()


def test_seed_demo_runs_with_force_when_debug_is_off(db, settings):
    settings.DEVELOPMENT = False

    call_command("seed_demo", "--force", requests=6, stdout=StringIO())

    assert set(FeasibilityRequest.objects.values_list("status", flat=True)) == set(Status.values)


def test_seed_demo_fills_every_role_and_state_and_a_second_run_creates_nothing_new(db, settings, client):
    """One seeding (the slow part) checked from every side."""
    settings.DEVELOPMENT = True
    call_command("seed_demo", requests=SMALL_RUN, stdout=StringIO())
    before = row_counts()

    out = StringIO()
    call_command("seed_demo", requests=SMALL_RUN, stdout=out)

    assert row_counts() == before
    assert "already present" in out.getvalue()
    check_demo_users(settings)
    check_every_state_within_six_months()
    check_history_lived_through_the_lifecycle()
    check_analysis()
    check_answers_agree_with_their_assessments()
    check_every_demo_user_sees_their_pages_render(client)
    # The dashboard converts the demo's USD, GBP and CHF deals: each currency has a rate for every day shown.
    from requests_app.exchange_rates import rate_on

    assert all(rate_on(c, timezone.localdate() - timedelta(days=190)) for c in ("USD", "GBP", "CHF"))


def check_demo_users(settings) -> None:
    users = {u.username: u for u in User.objects.all()}

    assert users["rep1"].check_password(settings.S2O_DEMO_PASSWORD)
    assert roles.has_role(users["rep1"], Role.SALES_REP) and not roles.is_ops(users["rep1"])
    assert set(users["rep2"].sales_teams.values_list("name", flat=True)) == {"Team North"}
    assert set(users["rep3"].sales_teams.values_list("name", flat=True)) == {"Team South"}
    assert roles.is_sales_manager(users["salesmgr"])
    assert set(users["salesmgr"].sales_teams.values_list("name", flat=True)) == {"Team North"}
    for code in ("procurement", "stores", "manufacturing", "shipping"):
        assert users[code] in Department.objects.get(code=code).members.all()
        assert roles.is_ops(users[code]) and not roles.is_ops_lead(users[code])
    assert roles.is_ops_lead(users["opslead"])
    assert roles.is_manager(users["manager"]) and not users["manager"].is_staff
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert all(hasattr(u, "profile") for u in users.values())


def check_every_state_within_six_months() -> None:
    requests = FeasibilityRequest.objects.all()

    assert requests.count() == SMALL_RUN
    assert set(requests.values_list("status", flat=True)) == set(Status.values)
    oldest = requests.exclude(submitted_at=None).order_by("submitted_at").first().submitted_at
    assert oldest >= timezone.now() - timedelta(days=190)
    assert requests.filter(status=Status.DRAFT, reference__isnull=False).count() == 0
    assert all(outcome in Outcome.values for outcome in requests.filter(status=Status.CLOSED).values_list("outcome", flat=True))


def check_history_lived_through_the_lifecycle() -> None:
    submitted = FeasibilityRequest.objects.exclude(status=Status.DRAFT)

    assert not RequestEvent.objects.filter(at__gt=timezone.now()).exists()  # history, not the future
    for req in submitted:
        kinds = set(req.events.values_list("kind", flat=True))
        assert RequestEvent.Kind.SUBMITTED in kinds, req
        assert req.clock_events.filter(clock=ClockEvent.Clock.ACKNOWLEDGE, action=ClockEvent.Action.START).exists()
    for req in submitted.filter(acknowledged_at__isnull=False):
        assert req.acknowledge_met is not None
        assert req.assessments.exists(), f"{req} was acknowledged but routed nowhere"
    for req in submitted.filter(status=Status.ANSWERED):
        answer = Answer.objects.filter(request=req, published_at__isnull=False).latest("number")
        assert answer.decision and req.answer_met is not None


def check_analysis() -> None:
    done = Assessment.objects.filter(assessed_at__isnull=False)

    assert done.exists()
    assert all(a.verdict and a.assessment_seconds is not None and a.met is not None for a in done)
    assert done.exclude(verdict="can").filter(constraints__isnull=False).exists()
    assert Answer.objects.filter(published_at__isnull=False).exists()
    assert Alternative.objects.exists()
    assert Pause.objects.exists()  # some clarifications paused the clock


def check_answers_agree_with_their_assessments() -> None:
    """No "No: capacity fully booked" when every department said "can, with conditions"; every cost
    says what it covers; the history shows each assessment when it was made, before the answer."""
    answers = Answer.objects.filter(published_at__isnull=False).prefetch_related("alternatives")
    assert answers.filter(decision="alternatives").exists()
    for answer in answers:
        assessments = list(Assessment.objects.filter(request=answer.request, assessed_at__lte=answer.published_at)
                           .prefetch_related("constraints"))
        verdicts = {a.verdict for a in assessments}
        cited = {c.pk for a in assessments for c in a.constraints.all()}
        if verdicts == {"can"}:
            assert answer.decision == "yes", answer
        else:
            assert answer.decision != "yes", answer
        if answer.decision == "no":
            assert "cannot" in verdicts, answer
            assert all(a.department.name in answer.justification for a in assessments if a.verdict == "cannot"), answer
        for alternative in answer.alternatives.all():
            assert alternative.works_around_id is None or alternative.works_around_id in cited, alternative
            assert alternative.cost_delta is None or alternative.cost_basis, alternative
        for a in assessments:
            assert a.assessed_at <= answer.published_at
            assert a.history.exclude(verdict="").earliest("history_date").history_date <= answer.published_at, a
    assert Assessment.objects.filter(cost_basis="per_unit").exists() and Assessment.objects.filter(cost_basis="total").exists()
    assert not Assessment.objects.filter(cost_impact__isnull=False, cost_basis="").exists()


NAV_LINK = re.compile(r'<a class="nav-link(?: active)?" href="([^"]+)"[^>]*>([^<]+)</a>')


def check_every_demo_user_sees_their_pages_render(client) -> None:
    """With real data behind them: home, every navigation link, and a request they may see."""
    for user in User.objects.all():
        client.force_login(user)
        home = client.get("/", follow=True)
        assert home.status_code == 200, user
        links = NAV_LINK.findall(home.content.decode())
        assert links, f"{user} sees no navigation"
        for url, label in links:
            assert client.get(url).status_code == 200, f"{user}: {label.strip()} ({url})"
        visible = FeasibilityRequest.objects.visible_to(user).exclude(status=Status.DRAFT).first()
        if visible is not None:
            assert client.get(visible.get_absolute_url()).status_code == 200, f"{user}: {visible}"
