"""Bench personas and their sessions, in a bench database (its name must contain "bench").

    DATABASE_URL=postgres://…/s2o_bench_100k_copy SECRET_KEY=… python bench/people.py > people.json

The generated data has 80 reps in 8 teams and nobody else. This adds, once, the people the page
benchmarks and the load test act as: a sales manager per team, operations leads, two members per
department and managers (no usable password: nobody logs in as them by hand), and prints a session
cookie for each, created the way a login creates it. Logging in through the form would cost a
password hash per user (~0.5 s of CPU here) inside the measured time. The web server must run with
the same SECRET_KEY, which signs the sessions' auth hash.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "s2o.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from requests_app.models import Customer, Department, FeasibilityRequest, Role, SalesTeam, Status  # noqa: E402

LEADS = 5
MANAGERS = 3
MEMBERS_PER_DEPARTMENT = 2


def person(username: str, *roles: Role) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": username.title()})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(*(Group.objects.get_or_create(name=role.value)[0] for role in roles))
    return user


@transaction.atomic
def cast() -> dict[str, list[User]]:
    teams = list(SalesTeam.objects.filter(name__startswith="Bench team ").order_by("name"))
    reps = list(User.objects.filter(username__startswith="bench-rep-").order_by("username"))
    managers_of_teams = []
    for i, team in enumerate(teams, start=1):
        user = person(f"bench-salesmgr-{i}", Role.SALES_REP, Role.SALES_MANAGER)
        team.members.add(user)
        managers_of_teams.append(user)
    leads = [person(f"bench-lead-{i}", Role.OPS_LEAD, Role.OPS_MEMBER) for i in range(1, LEADS + 1)]
    members = []
    for department in Department.objects.order_by("code"):
        for i in range(1, MEMBERS_PER_DEPARTMENT + 1):
            user = person(f"bench-{department.code}-{i}", Role.OPS_MEMBER)
            department.members.add(user)
            members.append(user)
    managers = [person(f"bench-manager-{i}", Role.MANAGER) for i in range(1, MANAGERS + 1)]
    return {"rep": reps, "sales_manager": managers_of_teams, "ops_lead": leads, "ops_member": members, "manager": managers}


def session_for(user: User) -> str:
    """A logged-in session, as django.contrib.auth.login stores it."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "requests_app.auth.PageUserBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def showcase_request(rep: User) -> int:
    """A request of this rep with a full history (answered or closed, with assessments)."""
    return (
        FeasibilityRequest.objects.filter(requested_by=rep, status__in=[Status.ANSWERED, Status.CLOSED])
        .exclude(assessments=None)
        .order_by("-submitted_at")
        .values_list("pk", flat=True)
        .first()
    )


def main() -> None:
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit("Point DATABASE_URL at a PostgreSQL bench database (its name must contain 'bench').")
    people = cast()
    rep = people["rep"][0]
    print(json.dumps({
        "database": name,
        "sessions": {role: [{"username": u.username, "sessionid": session_for(u)} for u in users]
                     for role, users in people.items()},
        "request_of_first_rep": showcase_request(rep),
        "customers": list(Customer.objects.order_by("pk").values_list("name", flat=True)[:200]),  # as the picker posts
        "requests": FeasibilityRequest.objects.count(),
    }))


if __name__ == "__main__":
    main()
