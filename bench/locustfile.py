"""Locust users for bench/load_test.py: reps, sales managers, operations leads, department members and
managers doing their everyday work with 0.5–1.5 s between actions. Run it through bench/load_test.py,
which prepares the sessions (BENCH_PEOPLE), starts the server and checks the filed requests afterwards.

Reps also file requests through the real form (CSRF token, one-time form token); every filing that got
its success redirect is written to BENCH_FILED, one JSON line each, for the exactly-once check.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta

from locust import HttpUser, between, events, task

PEOPLE = json.loads(open(os.environ["BENCH_PEOPLE"]).read())  # noqa: SIM115 - read once at import
FILED_PATH = os.environ["BENCH_FILED"]
REQUEST_LINK = re.compile(r'href="/requests/(\d+)/"')
HIDDEN = re.compile(r'name="(csrfmiddlewaretoken|token)" value="([^"]+)"')
_next_person = {role: itertools.count() for role in PEOPLE["sessions"]}
_lock = threading.Lock()
_filed: list[dict] = []


class Person(HttpUser):
    abstract = True
    role = ""
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        with _lock:
            people = PEOPLE["sessions"][self.role]
            me = people[next(_next_person[self.role]) % len(people)]
        self.username = me["username"]
        self.cookies = {"sessionid": me["sessionid"]}
        self.seen: list[str] = []
        self.client.cookies.clear()

    def headers(self) -> dict[str, str]:
        # The TLS proxy's header; cookies by hand, since production cookies are Secure and this is http.
        origin = self.host.replace("http://", "https://")
        return {"X-Forwarded-Proto": "https", "Origin": origin, "Referer": f"{origin}/",
                "Accept-Encoding": "gzip", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def page(self, path: str, name: str | None = None) -> str:
        with self.client.get(path, headers=self.headers(), name=name or path, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return ""
            if "csrftoken" in response.cookies:
                self.cookies["csrftoken"] = response.cookies["csrftoken"]
            body = response.text
            self.seen = REQUEST_LINK.findall(body)[:25] or self.seen
            return body

    def open_a_request(self) -> None:
        if self.seen:
            self.page(f"/requests/{random.choice(self.seen)}/", name="/requests/<id>/")


class Rep(Person):
    role = "rep"
    fixed_count = 30

    @task(3)
    def my_requests(self) -> None:
        self.page("/requests/")

    @task(3)
    def a_request(self) -> None:
        self.open_a_request()

    @task(1)
    def file_a_request(self) -> None:
        form = self.page("/requests/new/")
        fields = dict(HIDDEN.findall(form))
        if "token" not in fields or "csrftoken" not in self.cookies:
            return
        title = f"Load test {uuid.uuid4().hex}"
        data = {
            "csrfmiddlewaretoken": fields["csrfmiddlewaretoken"], "token": fields["token"], "title": title,
            "customer": str(random.choice(PEOPLE["customers"])), "new_customer": "", "product": "",
            "part_description": "Bracket, laser cut", "quantity": "250", "unit": "pcs",
            "requested_date": (datetime.now(UTC).date() + timedelta(days=45)).isoformat(), "target_price": "", "deal_value": "",
            "currency": "EUR", "priority": "normal", "description": "Filed by the load test.",
        }
        with self.client.post("/requests/new/", data=data, headers=self.headers(), name="/requests/new/ (file)",
                              allow_redirects=False, catch_response=True) as response:
            filed = re.fullmatch(r"/requests/(\d+)/", response.headers.get("Location", ""))
            if response.status_code != 302 or not filed:
                response.failure(f"{response.status_code}: not filed")
                return
            with _lock:
                _filed.append({"user": self.username, "token": fields["token"], "title": title, "pk": int(filed[1])})


class SalesManager(Person):
    role = "sales_manager"
    fixed_count = 4

    @task(2)
    def team_requests(self) -> None:
        self.page("/requests/")

    @task(2)
    def a_request(self) -> None:
        self.open_a_request()


class OpsLead(Person):
    role = "ops_lead"
    fixed_count = 5

    @task(3)
    def triage(self) -> None:
        self.page("/ops/triage/")

    @task(2)
    def a_request(self) -> None:
        self.open_a_request()


class DepartmentMember(Person):
    role = "ops_member"
    fixed_count = 8

    @task(3)
    def queue(self) -> None:
        self.page("/ops/department/")

    @task(2)
    def a_request(self) -> None:
        self.open_a_request()


class Manager(Person):
    role = "manager"
    fixed_count = 3

    @task(1)
    def dashboard(self) -> None:
        self.page("/ops/dashboard/")

    @task(2)
    def all_requests(self) -> None:
        self.page("/requests/")

    @task(1)
    def a_request(self) -> None:
        self.open_a_request()


@events.test_stop.add_listener
def write_filed(**_kwargs: object) -> None:
    with open(FILED_PATH, "w") as out:
        for item in _filed:
            out.write(json.dumps(item) + "\n")
