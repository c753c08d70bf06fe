"""Managers edit SLA policies, calendars and closures; everyone else gets 403; bad input is
refused with a clear message and nothing half-saved. Clock badges render on any page."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.contrib import admin
from django.template import Context, Template
from django.urls import reverse

from requests_app.models import BusinessCalendar, CompanyClosure, Priority, SlaChange, SlaPolicy
from tests.analysis.sla_support import acknowledge, submit
from tests.conftest import aware

URL = reverse("analysis:sla_policies")


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


@pytest.mark.parametrize("persona", ["rep", "ops_lead", "ops_member", "nobody"])
def test_only_managers_see_and_edit_sla_policies(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    policy = SlaPolicy.objects.get(priority=Priority.NORMAL)
    calendar = BusinessCalendar.objects.get(is_default=True)
    assert client.get(URL).status_code == 403
    assert client.post(reverse("analysis:sla_policy_edit", args=[policy.pk]), {}).status_code == 403
    assert client.post(reverse("analysis:sla_calendar_edit", args=[calendar.pk]), {}).status_code == 403
    assert client.post(reverse("analysis:sla_closure_add", args=[calendar.pk]), {}).status_code == 403


def test_anonymous_users_are_sent_to_login(client):
    assert client.get(URL).status_code == 302


def test_the_policy_list_shows_every_priority_and_calendar(as_manager):
    page = as_manager.get(URL).content.decode()
    for label in ("Low", "Normal", "High", "Urgent", "Head office", "Mon, Tue, Wed, Thu, Fri", "50%, 80%"):
        assert label in page


def policy_post(**overrides) -> dict:
    data = {"acknowledge_hours": "6", "answer_hours": "30", "max_answer_hours": "60", "reminder_thresholds": "0.25, 0.75",
            "escalation_interval_hours": "3", "department_share": "0.6", "min_answer_hours": "1", "max_horizon_days": "90"}
    data.update(overrides)
    return data


def test_a_manager_edits_a_policy_into_a_new_version_and_the_page_lists_the_change(as_manager, manager):
    policy = SlaPolicy.objects.current().get(priority=Priority.HIGH)
    response = as_manager.post(reverse("analysis:sla_policy_edit", args=[policy.pk]), policy_post())
    assert response.status_code == 302
    new = SlaPolicy.objects.current().get(priority=Priority.HIGH)
    assert (new.version, new.reminder_thresholds, str(new.answer_hours)) == (policy.version + 1, [0.25, 0.75], "30.00")
    policy.refresh_from_db()
    assert policy.reminder_thresholds == [0.5, 0.8] and policy.retired_at is not None  # kept for running clocks
    page = as_manager.get(URL).content.decode()
    assert "High policy: version 2 replaces version 1" in page
    assert "reminders at (share of the window): [0.5, 0.8] → [0.25, 0.75]" in page
    assert manager.get_full_name() in page
    # The old version's edit page leads to the current one.
    assert as_manager.get(reverse("analysis:sla_policy_edit", args=[policy.pk])).url == reverse(
        "analysis:sla_policy_edit", args=[new.pk]
    )


def test_saving_a_form_loaded_before_someone_else_saved_is_refused_with_the_input_kept(as_manager):
    policy = SlaPolicy.objects.current().get(priority=Priority.HIGH)
    as_manager.post(reverse("analysis:sla_policy_edit", args=[policy.pk]), policy_post())
    late = as_manager.post(reverse("analysis:sla_policy_edit", args=[policy.pk]), policy_post(reminder_thresholds="0.1"))
    assert late.status_code == 200
    assert "was replaced while you were editing it" in late.content.decode()
    assert SlaPolicy.objects.current().get(priority=Priority.HIGH).reminder_thresholds == [0.25, 0.75]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"max_answer_hours": "20"}, "cannot be shorter than the default answer time"),
        ({"reminder_thresholds": "0.8, 0.5"}, "increasing order"),
        ({"reminder_thresholds": "0.5, 1"}, "strictly between 0 and 1"),
        ({"reminder_thresholds": "half"}, "fractions separated by commas"),
        ({"reminder_thresholds": "0.3333"}, "at most three decimals"),
        ({"answer_hours": "9999"}, "at most 2,000"),
        ({"min_answer_hours": "31"}, "shortest answer-by cannot be longer than the default answer time"),
        ({"max_horizon_days": "400"}, "from 7 to 366"),
        ({"max_horizon_days": "3"}, "from 7 to 366"),
        ({"max_horizon_days": "10", "max_answer_hours": "1200"}, "about 210 days in a 40-hour week"),
    ],
)
def test_a_bad_policy_is_refused_with_its_input_kept(as_manager, overrides, message):
    policy = SlaPolicy.objects.get(priority=Priority.HIGH)
    before = list(SlaPolicy.objects.values())
    response = as_manager.post(reverse("analysis:sla_policy_edit", args=[policy.pk]), policy_post(**overrides))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert overrides[next(iter(overrides))] in page  # the input is kept
    assert list(SlaPolicy.objects.values()) == before


def calendar_post(**overrides) -> dict:
    data = {"name": "Plant Ohio", "time_zone": "America/New_York", "working_days": ["0", "1", "2", "3", "4"],
            "periods": "07:00-11:30, 12:00-16:00", "holiday_country": "us", "holiday_subdivision": "oh"}
    data.update(overrides)
    return data


def test_a_manager_creates_a_calendar_with_split_hours_and_regional_holidays(as_manager):
    response = as_manager.post(reverse("analysis:sla_calendar_create"), calendar_post())
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Plant Ohio")
    assert calendar.periods == [["07:00", "11:30"], ["12:00", "16:00"]]
    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("US", "OH")
    assert calendar.working_days == [0, 1, 2, 3, 4]
    assert calendar.as_work_calendar().validate() is None


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"time_zone": "Mars/Olympus"}, "Unknown time zone"),
        ({"periods": "8-12"}, "is not a period like 08:00-12:00"),
        ({"periods": "13:00-17:00, 08:00-12:00"}, "must be sorted"),
        ({"periods": "17:00-08:00"}, "must start before it ends"),
        ({"holiday_country": "XX"}, "is not a country the holidays library knows"),
        ({"holiday_subdivision": "ZZ"}, "is not a region of US"),
        ({"working_days": []}, "This field is required"),
    ],
)
def test_a_bad_calendar_is_refused_with_a_clear_message(as_manager, overrides, message):
    response = as_manager.post(reverse("analysis:sla_calendar_create"), calendar_post(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="Plant Ohio").exists()


def test_a_manager_adds_and_removes_a_closure(as_manager):
    calendar = BusinessCalendar.objects.get(is_default=True)
    add = reverse("analysis:sla_closure_add", args=[calendar.pk])
    bad = as_manager.post(add, {"start_date": "2026-12-31", "end_date": "2026-12-24", "reason": "Winter"})
    assert "cannot be before the first day" in bad.content.decode()
    assert as_manager.post(add, {"start_date": "2026-12-24", "end_date": "2026-12-31", "reason": "Winter"}).status_code == 302
    closure = CompanyClosure.objects.get(calendar=calendar)
    assert calendar.as_work_calendar().is_working_day(date(2026, 12, 28)) is False

    assert as_manager.get(reverse("analysis:sla_closure_delete", args=[calendar.pk, closure.pk])).status_code == 405
    as_manager.post(reverse("analysis:sla_closure_delete", args=[calendar.pk, closure.pk]))
    assert not CompanyClosure.objects.exists()


def test_the_admin_shows_policies_and_their_changes_but_never_writes_them(rf, manager):
    import analysis.admin_sla  # noqa: F401 - registers

    request = rf.get("/")
    request.user = manager
    for model in (SlaPolicy, SlaChange, BusinessCalendar):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)


def render_badge(obj, now) -> str:
    tag = "{% load operations_clocks %}{% assessment_badge obj %}" if hasattr(obj, "department_id") else \
        "{% load clocks %}{% clock_badge obj %}"
    return " ".join(Template(tag).render(Context({"obj": obj, "now_utc": now})).split())


def test_clock_badge_shows_each_state_in_business_hours(rep, customer, ops_lead):
    with time_machine.travel(aware(2026, 3, 2, 7, 0), tick=False):
        req = submit(rep, customer, at=aware(2026, 3, 2, 7, 0))  # urgent: acknowledge by 10:00 CET
    assert "on track · 2.0 business h left" not in render_badge(req, aware(2026, 3, 2, 7, 0))  # 2 h left is "due soon"
    assert "due soon · 2.0 business h left" in render_badge(req, aware(2026, 3, 2, 7, 0))
    assert "breached · overdue 2.0 business h" in render_badge(req, aware(2026, 3, 2, 12, 0))
    req = acknowledge(req, ops_lead, at=aware(2026, 3, 2, 8, 0), departments=("stores",))
    assert "on track · 7.0 business h left" in render_badge(req, aware(2026, 3, 2, 8, 0))
    assessment = req.assessments.get()
    assert "business h left" in render_badge(assessment, aware(2026, 3, 2, 8, 0))


def test_the_admin_shows_a_calendars_closures_but_never_writes_them(rf, manager):
    from analysis import admin_sla

    request = rf.get("/")
    request.user = manager
    calendar = BusinessCalendar.objects.get(is_default=True)
    inline = admin_sla.ClosureInline(BusinessCalendar, admin.site)
    assert not inline.has_add_permission(request, calendar)
    assert not inline.has_change_permission(request, calendar)
    assert not inline.has_delete_permission(request, calendar)
