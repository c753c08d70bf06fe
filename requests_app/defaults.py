"""Reference data every installation needs: role groups, the four Operations departments, a
default business calendar and SLA policies. Created after every migrate (and after a test
flush) by a post_migrate handler, and never overwritten once an admin has edited it."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

DEPARTMENTS = [
    ("procurement", "Procurement"),
    ("stores", "Stores"),
    ("manufacturing", "Manufacturing"),
    ("shipping", "Shipping"),
]

# Business hours. Thresholds are fractions of each window (remind at 50% and 80%).
DEFAULT_POLICIES = {
    "low": {"acknowledge_hours": "16", "answer_hours": "80", "max_answer_hours": "160", "escalation_interval_hours": "8"},
    "normal": {"acknowledge_hours": "8", "answer_hours": "40", "max_answer_hours": "80", "escalation_interval_hours": "8"},
    "high": {"acknowledge_hours": "4", "answer_hours": "24", "max_answer_hours": "48", "escalation_interval_hours": "4"},
    "urgent": {"acknowledge_hours": "2", "answer_hours": "8", "max_answer_hours": "16", "escalation_interval_hours": "2"},
}


def ensure_reference_data(**kwargs: object) -> None:
    from requests_app.models import BusinessCalendar, Department, SlaPolicy
    from requests_app.roles import ensure_role_groups

    with transaction.atomic():
        ensure_role_groups()
        for code, name in DEPARTMENTS:
            Department.objects.get_or_create(code=code, defaults={"name": name})
        if not BusinessCalendar.objects.filter(is_default=True).exists():
            BusinessCalendar.objects.get_or_create(
                name="Head office",
                defaults={
                    "time_zone": "Europe/Berlin",
                    "working_days": [0, 1, 2, 3, 4],
                    "periods": [["08:00", "12:00"], ["13:00", "17:00"]],
                    "holiday_country": "DE",
                    "is_default": True,
                },
            )
        for priority, values in DEFAULT_POLICIES.items():
            if not SlaPolicy.objects.filter(priority=priority).exists():  # version 1, once
                SlaPolicy.objects.create(
                    priority=priority,
                    **{key: Decimal(value) for key, value in values.items()},
                    reminder_thresholds=[0.5, 0.8],
                    department_share=Decimal("0.70"),
                )
