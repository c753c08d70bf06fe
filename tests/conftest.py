"""Personas and factories shared by all tests.

Real services: tests run against whatever DATABASE_URL / REDIS_URL point at (CI: PostgreSQL and
Redis). Tests that need a service mark themselves with `services` helpers below: they skip when
the service is missing, unless S2O_REQUIRE_SERVICES=1 (set by .ci/run), which turns the skip into
a failure so CI can never pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from requests_app.models import Customer, Department, Priority, Product, Role, SalesTeam

REQUIRE_SERVICES = os.environ.get("S2O_REQUIRE_SERVICES") == "1"


def need(condition: bool, why: str) -> None:
    """Skip (locally) or fail (CI) when a real service a test needs is not there."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {why}", pytrace=False)
    pytest.skip(why)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def postgres_only() -> None:
    need(is_postgres(), "needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture(autouse=True, scope="session")
def _static_files_from_the_source_folders() -> Iterator[None]:
    """Pages render without a collectstatic: `{% static %}` gives plain names and whitenoise serves
    them from the finders (live-server tests too). The hashed, compressed pipeline that every mode
    runs is tested on its own in tests/s2o/test_static.py."""
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(
        STORAGES={**django_settings.STORAGES, "staticfiles": plain},
        WHITENOISE_USE_FINDERS=True,
        WHITENOISE_AUTOREFRESH=True,
    ):
        yield


@pytest.fixture(autouse=True)
def _no_calendar_from_another_test() -> None:
    """Pages keep calendars for a minute (`clocks.page_calendar`); a test's rolled-back changes
    must not show in the next test."""
    from requests_app.clocks import forget_page_calendars

    forget_page_calendars()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(username: str, *roles: Role, departments: tuple[str, ...] = (), teams: tuple[SalesTeam, ...] = ()) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", "pw-" + username, first_name=username.title())
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    for code in departments:
        Department.objects.get(code=code).members.add(user)
    for team in teams:
        team.members.add(user)
    return user


@pytest.fixture
def team_a(db) -> SalesTeam:
    return SalesTeam.objects.create(name="Team North")


@pytest.fixture
def team_b(db) -> SalesTeam:
    return SalesTeam.objects.create(name="Team South")


@pytest.fixture
def rep(team_a) -> User:
    return make_user("rita", Role.SALES_REP, teams=(team_a,))


@pytest.fixture
def teammate(team_a) -> User:
    return make_user("tom", Role.SALES_REP, teams=(team_a,))


@pytest.fixture
def sales_manager(team_a) -> User:
    return make_user("sam", Role.SALES_REP, Role.SALES_MANAGER, teams=(team_a,))


@pytest.fixture
def other_rep(team_b) -> User:
    """A rep of another team: an outsider to team A's requests."""
    return make_user("olga", Role.SALES_REP, teams=(team_b,))


@pytest.fixture
def ops_member(db) -> User:
    return make_user("paul", Role.OPS_MEMBER, departments=("procurement",))


@pytest.fixture
def stores_member(db) -> User:
    return make_user("stella", Role.OPS_MEMBER, departments=("stores",))


@pytest.fixture
def ops_lead(db) -> User:
    return make_user("lena", Role.OPS_LEAD, Role.OPS_MEMBER, departments=("manufacturing",))


@pytest.fixture
def manager(db) -> User:
    return make_user("max", Role.MANAGER)


@pytest.fixture
def nobody(db) -> User:
    """Logged in, but no role at all."""
    return make_user("nora")


@pytest.fixture
def customer(db) -> Customer:
    return Customer.objects.create(name="Acme Industrial")


@pytest.fixture
def product(db) -> Product:
    return Product.objects.create(sku="BRK-100", name="Bracket 100", unit="pcs")


def aware(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A UTC instant, for frozen clocks."""
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def request_fields(customer: Customer, product: Product | None = None, **overrides) -> dict:
    fields = {
        "title": "500 brackets by end of month",
        "customer": customer,
        "product": product,
        "quantity": Decimal("500"),
        "unit": "pcs",
        "requested_date": timezone.localdate() + timedelta(days=30),
        "target_price": Decimal("12.50"),
        "deal_value": Decimal("6250"),
        "currency": "EUR",
        "priority": Priority.NORMAL,
        "description": "Customer needs a one-off batch.",
    }
    fields.update(overrides)
    return fields


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under mutation testing (scripts/mutation.py), run a mutant's tests fastest first: it stops at
    the first failure, so a mutant that the quick business-time tests kill is not made to wait for
    a slow test that reaches the same function (durations from mutmut's own first run)."""
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    import json
    from pathlib import Path

    try:
        durations = json.loads(Path("mutmut-stats.json").read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))
