"""Hostile input into every write of /api/v1/ and every serializer of the API (hypothesis): unicode, 1 MB
strings, NUL bytes, negative, huge and non-finite numbers, far dates, HTML/JS payloads, wrong JSON
types, unknown keys, and bodies that are not JSON at all.

For every call: never a server error; a refusal (4xx) leaves every row as it was (nothing
half-saved: the same rows, the same values); an accepted call's markup is shown escaped on every
page that shows it. Each example runs in a savepoint rolled back afterwards, so every example starts
from the same requests, one in each state an action needs.

Bounded: 15 examples per endpoint (and the nastiest values of each kind in every field), 25 per
serializer, derandomized (CI sees the same examples every run); the raw bodies are a fixed list.
`tests/integrations/test_api_schema.py` (schemathesis) covers the schema's own shapes; this covers
the values a schema says nothing about.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.test import APIClient

from analysis import services as ops
from analysis.models import Decision
from integrations.api import serializers as api_serializers
from requests_app.models import FeasibilityRequest, Notification, Status
from tests.integrations.api_support import token_for
from tests.requests_app.sales_factories import request_in

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
UNESCAPED = ("<script>alert", "<img src=x")
MEGABYTE = "x" * 1_000_000
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        PAYLOAD, f"Bracket {PAYLOAD}", "\x00", "a\x00b", MEGABYTE, "😀" * 300, "\u202e\ufeff\u200b", " ", "",
        "{{ 7*7 }}", "{% debug %}", "' OR 1=1 --", "-1", "-0.001", "0", "1e309", "-1e309", "NaN", "Infinity",
        "99999999999999999999999999.99", "0.0000000001", "12,50", "0001-01-01", "9999-12-31", "10000-01-01",
        "2026-02-30", "1970-01-01T00:00:00Z", "S2O-9999-99999", "procurement", "can", "alternatives", "true",
    ]),
)
HOSTILE_NUMBER = st.one_of(
    st.sampled_from([0, -1, 1, 2**31, 2**31 - 1, -(2**31), 2**63, 10**40, -(10**40), 1e308, -1e308, 5e-324,
                     0.1, 12.345678, -0.0]),
    st.integers(), st.floats(allow_nan=False, allow_infinity=False),
)
SCALAR = st.one_of(HOSTILE_TEXT, HOSTILE_NUMBER, st.booleans(), st.none())
HOSTILE = st.one_of(
    HOSTILE_TEXT, HOSTILE_TEXT, HOSTILE_NUMBER, st.booleans(), st.none(),
    st.lists(SCALAR, max_size=3), st.dictionaries(st.text(max_size=8), SCALAR, max_size=3),
)
BOUNDED = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                          HealthCheck.data_too_large, HealthCheck.large_base_example])


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


# ---------------------------------------------------------------------------------------------
# The world: one request in each state an action needs, and who may act on it


@dataclass
class World:
    refs: dict[str, str]  # state name -> the request's reference in the URL
    pks: dict[str, int]
    tokens: dict[str, str]  # persona -> API token
    users: dict[str, Any]
    ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def world(rep, ops_lead, ops_member, customer, product, settings) -> World:
    settings.S2O_API_RATE = "1000000/min"  # the rate limit has its own tests
    made = {
        "draft": request_in(Status.DRAFT, rep=rep, customer=customer, lead=ops_lead, product=product),
        "submitted": request_in(Status.SUBMITTED, rep=rep, customer=customer, lead=ops_lead, product=product),
        "waiting": request_in(Status.WAITING_ON_SALES, rep=rep, customer=customer, lead=ops_lead, product=product),
        "answered": request_in(Status.ANSWERED, rep=rep, customer=customer, lead=ops_lead, product=product),
    }
    routed = request_in(Status.SUBMITTED, rep=rep, customer=customer, lead=ops_lead, product=product)
    ops.request_acknowledge(request_id=routed.pk, actor=ops_lead, departments=["procurement"])
    draft = ops.answer_save_draft(request_id=routed.pk, actor=ops_lead, decision=Decision.YES, summary="Yes",
                                  justification="", alternatives=[], expected_version=None)
    made["analysis"] = FeasibilityRequest.objects.get(pk=routed.pk)
    refs = {name: (req.reference or str(req.pk)) for name, req in made.items()}
    answered = made["answered"].answers.get()
    ids = {"alternative": answered.alternatives.order_by("position").first().pk, "draft_version": draft.version,
           "assessment_version": made["analysis"].assessments.get().version,
           "notification": Notification.objects.filter(user=rep).order_by("pk").first().pk}
    users = {"rep": rep, "ops_lead": ops_lead, "ops_member": ops_member}
    return World(refs=refs, pks={n: r.pk for n, r in made.items()}, tokens={n: token_for(u) for n, u in users.items()},
                 users=users, ids=ids)


# ---------------------------------------------------------------------------------------------
# Every write of the API: who calls it, on which request, and a body it accepts


@dataclass(frozen=True)
class Write:
    method: str
    path: str  # {ref:<state>} is the reference of that state's request
    persona: str
    serializer: type[serializers.Serializer] | None
    body: Any  # a valid body (a callable of the world where it needs ids)

    def url(self, world: World) -> str:
        path = re.sub(r"\{ref:(\w+)\}", lambda m: world.refs[m.group(1)], self.path)
        return "/api/v1/" + path.replace("{notification}", str(world.ids["notification"]))

    def valid_body(self, world: World) -> Any:
        return self.body(world) if callable(self.body) else dict(self.body)


s = api_serializers
WRITES = [
    Write("post", "requests/", "rep", s.RequestCreateSerializer, lambda w: {
        "title": "500 brackets", "customer": _customer_id(), "quantity": "500",
        "requested_date": in_days(30), "target_price": "12.50", "deal_value": "6250", "currency": "EUR",
        "priority": "normal", "description": "One-off batch.", "part_description": "Custom bracket"}),
    Write("post", "requests/{ref:draft}/submit/", "rep", None, {}),
    Write("post", "requests/{ref:analysis}/comments/", "rep", s.BodySerializer, {"body": "Any news?"}),
    Write("post", "requests/{ref:waiting}/reply/", "rep", s.BodySerializer, {"body": "The 6061 alloy."}),
    Write("post", "requests/{ref:submitted}/withdraw/", "rep", s.ReasonSerializer, {"reason": "Lost interest"}),
    Write("post", "requests/{ref:analysis}/outcome/", "rep", s.OutcomeSerializer,
          {"outcome": "lost", "reason": "Went elsewhere"}),
    Write("post", "requests/{ref:answered}/decision/", "rep", s.DecisionSerializer,
          {"action": "revise", "reason": "New drawing"}),
    Write("post", "requests/{ref:answered}/accept-alternative/", "rep", s.AcceptAlternativeSerializer,
          lambda w: {"alternative": w.ids["alternative"], "reason": "Fine"}),
    Write("put", "requests/{ref:analysis}/assessments/procurement/", "ops_member", s.AssessmentWriteSerializer,
          lambda w: {"verdict": "can_with_conditions", "quantity_feasible": "300", "earliest_full_date": in_days(60),
                     "constraints": ["supplier_lead_time"], "notes": "Nine weeks for the rest",
                     "version": w.ids["assessment_version"]}),
    Write("put", "requests/{ref:analysis}/answer-draft/", "ops_lead", s.DraftAnswerWriteSerializer,
          lambda w: {"decision": "alternatives", "summary": "Two ways", "justification": "",
                     "version": w.ids["draft_version"],
                     "alternatives": [{"quantity": "300", "delivery_date": in_days(40), "price": "13.10",
                                       "currency": "EUR", "conditions": "Half now"}]}),
    Write("post", "requests/{ref:analysis}/answer-draft/publish/", "ops_lead", s.PublishSerializer,
          lambda w: {"version": w.ids["draft_version"]}),
    Write("post", "customers/", "rep", s.CustomerCreateSerializer, {"name": "Brand New GmbH", "code": "C-1"}),
    Write("post", "products/", "ops_lead", s.ProductCreateSerializer, {"sku": "BRK-200", "name": "Bracket", "unit": "pcs"}),
    Write("post", "notifications/{notification}/read/", "rep", None, {}),
    Write("post", "notifications/read-all/", "rep", None, {}),
]


def _customer_id() -> int:
    from requests_app.models import Customer

    return Customer.objects.order_by("pk").values_list("pk", flat=True).first()


def label(write: Write) -> str:
    return f"{write.method.upper()} {write.path}"


def test_every_write_of_the_api_is_fuzzed_with_the_serializer_it_reads():
    """A new write endpoint without an entry in WRITES (or one reading another serializer) fails here."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put", "patch", "delete"):
                body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
                name = body.get("$ref", "").rpartition("/")[2].removesuffix("Request")  # COMPONENT_SPLIT_REQUEST
                found[(method, re.sub(r"\{[^}]+\}", "{}", path))] = name or None
    listed = {}
    for w in WRITES:
        path = re.sub(r"\{ref:\w+\}", "{}", "/api/v1/" + w.path).replace("{notification}", "{}")
        path = path.replace("assessments/procurement/", "assessments/{}/")
        listed[(w.method, path)] = w.serializer.__name__.removesuffix("Serializer") if w.serializer else None
    assert found == listed


# ---------------------------------------------------------------------------------------------
# What "nothing half-saved" and "escaped" are checked against


def our_models() -> list[Any]:
    return [m for name in ("requests_app", "analysis", "integrations") for m in apps.get_app_config(name).get_models()]


# Rows a refused call may still touch: the token's "last used" and the rate limiter's counters.
CHANGES_ANYWAY = {"apitoken", "apiratewindow"}


def rows() -> dict[str, str]:
    """A digest of every row of every table of ours (one query): equal digests, equal rows."""
    tables = sorted(m._meta.db_table for m in our_models() if m._meta.model_name not in CHANGES_ANYWAY)
    sql = " UNION ALL ".join(
        f"SELECT '{t}', (SELECT md5(coalesce(string_agg(r::text, ',' ORDER BY r::text), '')) FROM {t} r)"  # our own table names
        for t in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


def pages_showing(world: World, write: Write) -> list[tuple[str, str]]:
    """(persona, URL) of the pages that show what this write saved."""
    pk = world.pks.get(m.group(1)) if (m := re.search(r"\{ref:(\w+)\}", write.path)) else None
    if pk is None:
        latest = FeasibilityRequest.objects.order_by("-pk").first()
        pk = latest.pk if latest else None
    shown = [("rep", "/requests/"), ("rep", "/requests/my-work/"), ("rep", "/requests/notifications/"),
             ("ops_lead", "/ops/triage/"), ("ops_member", "/ops/department/"), ("ops_lead", "/ops/improvements/")]
    if pk is not None:
        shown += [("rep", f"/requests/{pk}/"), ("ops_lead", f"/requests/{pk}/"), ("ops_member", f"/requests/{pk}/"),
                  ("ops_lead", f"/ops/requests/{pk}/answer/")]
    return shown


def assert_escaped(world: World, write: Write) -> None:
    for persona, url in pages_showing(world, write):
        client = Client(raise_request_exception=False)
        client.force_login(world.users[persona])
        page = client.get(url)
        assert page.status_code < 500, (persona, url, page.status_code)
        html = page.content.decode(errors="replace")
        assert not any(bad in html for bad in UNESCAPED), (persona, url)


def has_markup(body: Any) -> bool:
    return "<" in json.dumps(body, default=str)


def call(world: World, write: Write, data: bytes, content_type: str = "application/json") -> Any:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.tokens[write.persona]}")
    return client.generic(write.method.upper(), write.url(world), data, content_type=content_type)


def check(world: World, write: Write, data: bytes, content_type: str = "application/json", *, body: Any = None) -> int:
    """One call in a savepoint that is rolled back: no 5xx, nothing changed by a 4xx, markup escaped."""
    with transaction.atomic():
        before = rows()
        response = call(world, write, data, content_type)
        status = response.status_code
        assert status < 500, (label(write), status, response.content[:500])
        assert response["Content-Type"].startswith("application/json"), (label(write), response["Content-Type"])
        if status >= 400:
            assert rows() == before, f"{label(write)} answered {status} but changed rows"
        elif has_markup(body):
            assert_escaped(world, write)
        transaction.set_rollback(True)
    return status


# ---------------------------------------------------------------------------------------------
# Generated bodies


def bodies(write: Write, world: World) -> st.SearchStrategy:
    base = write.valid_body(world)
    names = sorted(base) or ["body"]
    if write.serializer is not None:
        names = sorted(set(names) | {n for n, f in write.serializer().fields.items() if not f.read_only})
    one_field = st.tuples(st.sampled_from(names), HOSTILE).map(lambda nv: {**base, nv[0]: nv[1]})
    strategies = [
        st.just(base),
        one_field, one_field, one_field,
        st.fixed_dictionaries({n: HOSTILE for n in names}),
        st.dictionaries(st.text(max_size=12), HOSTILE, max_size=4).map(lambda extra: {**extra, **base}),
        HOSTILE,  # not an object at all
    ]
    if "alternatives" in base:  # hostile values inside a nested alternative
        alternative = base["alternatives"][0]
        strategies.append(st.tuples(st.sampled_from(sorted(n for n in s.AlternativeWriteSerializer().fields)), HOSTILE)
                          .map(lambda nv: {**base, "alternatives": [{**alternative, nv[0]: nv[1]}]}))
        strategies.append(st.integers(21, 60).map(lambda n: {**base, "alternatives": [alternative] * n}))
    return st.one_of(*strategies)


@pytest.mark.parametrize("write", WRITES, ids=label)
def test_hostile_bodies_are_refused_or_saved_never_a_server_error_nor_half_saved(world, write):
    seen: set[int] = set()

    @BOUNDED
    @given(data=st.data())
    def run(data):
        body = data.draw(bodies(write, world))
        seen.add(check(world, write, json.dumps(body).encode(), body=body))

    run()
    if write.serializer is not None:  # (an action without a body ignores any body sent)
        assert any(400 <= code < 500 for code in seen), f"{label(write)}: no hostile body was refused ({seen})"
    # The valid body goes through (so the examples reached the code behind the serializer too).
    base = write.valid_body(world)
    assert check(world, write, json.dumps(base).encode()) in (200, 201)
    # The nastiest values of each kind in every field, one field at a time (the examples above are a sample).
    for name, value in sweep(write, base):
        body = nested(base, name, value)
        status = check(world, write, json.dumps(body).encode(), body=body)
        assert status < 300 or status in (400, 403, 404, 409, 422), (name, repr(value)[:40], status)
    # Markup in each free-text field: where it is accepted, every page showing it escapes it.
    texts = [name for name, f in (write.serializer().fields.items() if write.serializer else ())
             if isinstance(f, serializers.CharField) and name in base]
    accepted = [name for name in texts
                if check(world, write, json.dumps(body := {**base, name: f"Bracket {PAYLOAD}"}).encode(), body=body) < 300]
    assert accepted or not texts, f"{label(write)}: markup was refused in every text field ({texts})"


def nasty(f: serializers.Field) -> list[Any]:
    """The values most likely to break what is behind a field of this kind."""
    if isinstance(f, serializers.CharField):
        return ["a\x00b", MEGABYTE, "\u202e😀"]
    if isinstance(f, serializers.DecimalField | serializers.IntegerField):
        return [10**40, -(2**63), 1e308, "1e309", "-0"]
    if isinstance(f, serializers.DateField):
        return ["0001-01-01", "9999-12-31", "2026-02-30"]
    if isinstance(f, serializers.ListSerializer | serializers.ManyRelatedField):
        return [["\x00"], [10**40]]
    return ["\x00", 10**40, None, [], {}]


def sweep(write: Write, base: dict) -> list[tuple[str, Any]]:
    if write.serializer is None:
        return [("body", MEGABYTE)]
    fields = dict(write.serializer().fields.items())
    pairs = [(name, value) for name, f in fields.items() if not f.read_only for value in nasty(f)]
    if "alternatives" in fields:
        pairs += [(f"alternatives.{name}", value) for name, f in s.AlternativeWriteSerializer().fields.items()
                  for value in nasty(f)]
    return pairs


def nested(base: dict, name: str, value: Any) -> dict:
    """`base` with `name` (or `alternatives.<name>`, in its first alternative) set to `value`."""
    if name.startswith("alternatives."):
        return {**base, "alternatives": [{**base["alternatives"][0], name.partition(".")[2]: value}]}
    return {**base, name: value}


RAW_BODIES = [
    (b"", "application/json"),
    (b"{", "application/json"),
    (b"[]", "application/json"),
    (b'"text"', "application/json"),
    (b"null", "application/json"),
    (b'{"title": NaN, "body": Infinity, "reason": -Infinity, "version": NaN}', "application/json"),
    (b'{"quantity": 1e999, "version": 1e999, "alternative": -1e999}', "application/json"),
    (b'{"body": "\xff\xfe\xfd", "reason": "\xc3\x28"}', "application/json"),  # not UTF-8
    ('{"body": "Grüße", "reason": "Grüße"}'.encode("latin-1"), "application/json; charset=latin-1"),
    ('{"body": "x"}'.encode("utf-16"), "application/json; charset=utf-16"),
    (b'{"body": "x"}', "application/json; charset=no-such-charset"),
    (b"[" * 10_000 + b"]" * 10_000, "application/json"),  # nested beyond Python's recursion limit
    (b'{"body": "a", "body": "b", "reason": "a", "reason": "b"}', "application/json"),
    (b"body=hello&reason=hello", "application/x-www-form-urlencoded"),
    (b"--x\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nhi\r\n--x--\r\n", "multipart/form-data; boundary=x"),
    (b"<xml>hi</xml>", "text/xml"),
    (json.dumps({"body": MEGABYTE, "reason": MEGABYTE, "title": MEGABYTE}).encode(), "application/json"),
]


# Parsing is the same for every write: every raw body goes to one write of each kind (a filing, a
# Sales action, an Operations PUT), the most telling ones to every write.
EVERY_WRITE = {b"[]", b"\xff\xfe\xfd", b"NaN", b"no-such-charset", b"[[[[", b"body=hello"}


def test_bodies_that_are_not_json_objects_are_refused_never_a_server_error(world):
    failures = []
    for write in WRITES:
        for data, content_type in RAW_BODIES:
            representative = write.path in ("requests/", "requests/{ref:analysis}/comments/",
                                            "requests/{ref:analysis}/assessments/procurement/")
            if not representative and not any(part in data[:40] or part in content_type.encode() for part in EVERY_WRITE):
                continue
            try:
                check(world, write, data, content_type)
            except AssertionError as exc:
                failures.append(f"{label(write)} with {content_type} {data[:40]!r}: {str(exc)[:200]}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------------------------
# Every serializer with a field to write, on its own: refuses or converts, never raises, keeps its bounds


def writable_serializers() -> list[type[serializers.Serializer]]:
    found = []
    for _, cls in inspect.getmembers(api_serializers, inspect.isclass):
        if (issubclass(cls, serializers.BaseSerializer) and cls.__module__ == api_serializers.__name__
                and any(not f.read_only for f in cls().fields.values())):
            found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


def assert_bounded(value: Any, where: str) -> None:
    if isinstance(value, str):
        assert "\x00" not in value, where
        assert len(value) <= 10_000, where
    elif isinstance(value, Decimal):
        assert value.is_finite() and abs(value) < Decimal(10) ** 16, where
    elif isinstance(value, int) and not isinstance(value, bool):
        assert -(2**31) <= value < 2**31, where
    elif isinstance(value, dict):
        for k, v in value.items():
            assert_bounded(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert_bounded(v, f"{where}[{i}]")
    elif hasattr(value, "year"):  # a date: today at the earliest (or none), ten years ahead at most
        assert value.year < timezone.localdate().year + 11, where


@pytest.mark.parametrize("cls", writable_serializers(), ids=lambda c: c.__name__)
def test_every_serializer_of_the_api_refuses_or_converts_hostile_values_within_bounds(cls, customer, product):
    names = [n for n, f in cls().fields.items() if not f.read_only]

    @settings(BOUNDED, max_examples=25)
    @given(st.one_of(st.fixed_dictionaries({n: HOSTILE for n in names}),
                     st.fixed_dictionaries({}, optional={n: HOSTILE for n in names})))
    def run(data):
        serializer = cls(data=data)
        if serializer.is_valid():
            assert_bounded(dict(serializer.validated_data), cls.__name__)
        else:
            assert serializer.errors and json.dumps(serializer.errors, default=str)

    run()
