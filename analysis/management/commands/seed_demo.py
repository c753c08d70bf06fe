"""Demo data for the embedded mode: a login for every role and ~300 requests in every state.

    python manage.py seed_demo            # embedded mode only (DEBUG on); idempotent
    python manage.py seed_demo --force    # anywhere (never on a real installation: the password is public)

The history is *lived*, not faked: every request is filed, acknowledged, assessed, answered and
closed through the same services the pages call, each with `now=` set to an instant in the last
six months (in business hours of the default calendar), so events, clocks, SLA figures,
assessments, answers and outcomes are exactly what the product would have recorded. A fixed
random seed makes every run the same. Demo users get their e-mail address only after the history
is written, so the past does not flood the console with e-mails.

This command lives in `analysis` because it drives both apps' services (filing in `requests_app`,
Operations' work in `analysis`), and `analysis` is the app that may depend on the other.
"""

from __future__ import annotations

import random
import time
import typing
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from analysis import money, selectors
from analysis.decisions import alternative_accept, answer_accept, answer_decline, revision_request
from analysis.models import Answer, Assessment, ConstraintCategory, CostBasis, Decision, Verdict
from analysis.services import answer_publish, assessment_save, request_acknowledge
from requests_app import businesstime, clocks
from requests_app.models import (
    Currency,
    Customer,
    Department,
    ExchangeRate,
    FeasibilityRequest,
    Notification,
    Outcome,
    Priority,
    Product,
    Profile,
    Role,
    SalesTeam,
    Status,
)
from requests_app.roles import ensure_role_groups
from requests_app.services import clarification_answer, clarification_ask, request_close, request_file, request_withdraw

K = TypeVar("K")

SEED = 2026
REQUEST_COUNT = 300
HISTORY_DAYS = 182
DEMO_EMAIL_DOMAIN = "demo.s2o.invalid"

# username: (first, last, roles, departments, team, superuser)
USERS: dict[str, tuple[str, str, tuple[Role, ...], tuple[str, ...], str, bool]] = {
    "rep1": ("Rita", "Weber", (Role.SALES_REP,), (), "North", False),
    "rep2": ("Tom", "Berger", (Role.SALES_REP,), (), "North", False),
    "rep3": ("Olga", "Novak", (Role.SALES_REP,), (), "South", False),
    "salesmgr": ("Sam", "Keller", (Role.SALES_REP, Role.SALES_MANAGER), (), "North", False),
    "procurement": ("Paul", "Fischer", (Role.OPS_MEMBER,), ("procurement",), "", False),
    "stores": ("Stella", "Wagner", (Role.OPS_MEMBER,), ("stores",), "", False),
    "manufacturing": ("Marco", "Schulz", (Role.OPS_MEMBER,), ("manufacturing",), "", False),
    "shipping": ("Sina", "Hoffmann", (Role.OPS_MEMBER,), ("shipping",), "", False),
    "opslead": ("Lena", "Braun", (Role.OPS_LEAD, Role.OPS_MEMBER), (), "", False),
    "manager": ("Max", "Richter", (Role.MANAGER,), (), "", False),
    "admin": ("Ada", "Admin", (), (), "", True),
}
SALES_USERS = {"rep1": 30, "rep2": 25, "rep3": 30, "salesmgr": 15}

CUSTOMERS = [
    "Acme Industrial", "Baltic Marine Systems", "Contoso Automotive", "Danube Rail", "Eastfield Agritech",
    "Fjord Energy", "Globex Packaging", "Helios Solar", "Iberia Medical", "Jura Precision",
    "Kestrel Aerospace", "Lumen Lighting", "Meridian Pumps", "Nordwind Turbines", "Orion Robotics",
]
PRODUCTS = [
    ("BRK-100", "Mounting bracket 100", "pcs"), ("BRK-220", "Mounting bracket 220, galvanised", "pcs"),
    ("SHF-12", "Drive shaft 12 mm", "pcs"), ("SHF-25", "Drive shaft 25 mm", "pcs"),
    ("HSG-A1", "Aluminium housing A1", "pcs"), ("HSG-S3", "Steel housing S3", "pcs"),
    ("GSK-40", "EPDM gasket 40", "pcs"), ("GSK-90", "Viton gasket 90", "pcs"),
    ("VLV-DN50", "Ball valve DN50", "pcs"), ("VLV-DN80", "Gate valve DN80", "pcs"),
    ("PMP-C7", "Centrifugal pump C7", "pcs"), ("MTR-1K5", "Motor 1.5 kW", "pcs"),
    ("MTR-7K5", "Motor 7.5 kW", "pcs"), ("CBL-H07", "Cable H07RN-F 3G2.5", "m"),
    ("CBL-CAT6", "Industrial Cat6 cable", "m"), ("PLT-S235", "Steel plate S235, 10 mm", "kg"),
    ("PLT-AL5", "Aluminium plate 5754, 5 mm", "kg"), ("FST-M8", "Hex bolt M8 A4", "pcs"),
    ("FST-M12", "Hex bolt M12 8.8", "pcs"), ("BRG-6205", "Ball bearing 6205", "pcs"),
    ("BRG-22210", "Spherical roller bearing 22210", "pcs"), ("PNL-CTRL", "Control panel, assembled", "pcs"),
    ("FRM-W2", "Welded frame W2", "pcs"), ("PCB-IO8", "I/O board, 8 channels", "pcs"),
    ("KIT-SRV", "Service kit, pump C7", "set"),
]
PRIORITY_WEIGHTS = {Priority.LOW: 15, Priority.NORMAL: 55, Priority.HIGH: 22, Priority.URGENT: 8}
# Where the requests end up (weights). Open ones are recent; closed ones spread over six months.
TARGET_WEIGHTS = {
    Status.DRAFT: 4, Status.SUBMITTED: 5, Status.WAITING_ON_SALES: 3, Status.IN_ANALYSIS: 12,
    Status.ANSWERED: 11, Status.CLOSED: 65,
}
# What a department's cost impact is made of: (basis, low, high, note); per-unit amounts in cents.
# The plant keeps its books in euros: a department's cost is in EUR whatever the customer's currency,
# so a USD or GBP request's alternatives have a price in one currency and a cost delta in another.
COST_CURRENCY = Currency.EUR
DEPARTMENT_COSTS = {
    "procurement": (CostBasis.PER_UNIT, 5, 400, "The supplier charges {amount} {currency} per unit extra for this lot."),
    "stores": (CostBasis.TOTAL, 100, 1200, "Re-packing and handling: {amount} {currency} for the whole order."),
    "manufacturing": (CostBasis.TOTAL, 300, 4000, "Overtime shifts: {amount} {currency} for the whole quantity."),
    "shipping": (CostBasis.TOTAL, 150, 2500, "Express freight: {amount} {currency} for the whole order."),
}
CONSTRAINT_WEIGHTS = {
    "material": 18, "supplier_lead_time": 22, "machine_capacity": 20, "inventory": 8, "labour": 9, "tooling": 7,
    "quality": 5, "freight": 6, "cost_margin": 4, "other": 1,
}
TITLES = [
    "{qty} {unit} of {product} by {date}", "Rush order: {product} for {customer}", "Frame contract: {product}, {qty} {unit}",
    "{customer} asks for {product} in {qty} {unit}", "Special finish on {product}", "Pilot batch {product}",
]
QUESTIONS = [
    "Which surface finish does the customer need exactly?", "Can the delivery be split into two shipments?",
    "Is a drawing revision available? The one attached is from 2019.", "Does the customer accept an equivalent material?",
]
REPLIES = [
    "Powder-coated RAL 7035, as in the last order.", "Yes, two shipments are fine, half each.",
    "Attached the current revision C.", "Equivalent material is fine if certified 3.1.",
]


@dataclass
class Cast:
    users: dict[str, User]
    departments: dict[str, Department]
    customers: list[Customer]
    products: list[Product]
    constraints: dict[str, ConstraintCategory]
    members: dict[str, User] = field(default_factory=dict)


class Command(BaseCommand):
    help = "Create demo users for every role and a few hundred requests in every state (embedded mode only; idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off (never on a real installation).")
        parser.add_argument("--requests", type=int, default=REQUEST_COUNT, help=f"How many requests (default {REQUEST_COUNT}).")

    def handle(self, *args: Any, force: bool = False, requests: int = REQUEST_COUNT, **options: Any) -> None:
        if not settings.DEVELOPMENT and not force:
            raise CommandError(
                "seed_demo creates logins with a published password, so it runs only in embedded mode (DEBUG=1, the default). "
                "Use --force to run it anyway on a throwaway database."
            )
        started = time.monotonic()
        # All or nothing: a failed run leaves no half demo behind.
        with transaction.atomic(), clocks.reference_data_cached():
            cast = seed_catalogue(seed_users())
            if FeasibilityRequest.objects.filter(requested_by__username__in=SALES_USERS).exists():
                self.stdout.write("Demo data already present: nothing to do.")
                return
            count = seed_requests(cast, now=timezone.now(), count=max(requests, len(TARGET_WEIGHTS)))
            finish_demo_users(cast)
            seed_exchange_rates(timezone.localdate())
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {len(USERS)} users (password {settings.S2O_DEMO_PASSWORD!r}), {len(cast.customers)} customers, "
                f"{len(cast.products)} products, {count} requests in {time.monotonic() - started:.1f} s."
            )
        )


# ---------------------------------------------------------------------------------------------
# People and catalogue


def seed_users() -> dict[str, User]:
    groups = ensure_role_groups()
    teams = {name: SalesTeam.objects.get_or_create(name=f"Team {name}")[0] for name in ("North", "South")}
    password = make_password(settings.S2O_DEMO_PASSWORD)  # hashed once: PBKDF2 is slow on purpose
    users: dict[str, User] = {}
    for username, (first, last, user_roles, departments, team, superuser) in USERS.items():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "password": password, "is_staff": superuser,
                      "is_superuser": superuser},
        )
        if created:
            user.groups.set([groups[role.value] for role in user_roles])
            for code in departments:
                Department.objects.get(code=code).members.add(user)
            if team:
                teams[team].members.add(user)
        Profile.objects.get_or_create(user=user, defaults={"time_zone": "Europe/London" if username == "rep3" else ""})
        users[username] = user
    return users


DEMO_RATES_TO_EUR = {Currency.USD: ("0.92", "0.95"), Currency.GBP: ("1.17", "1.15"), Currency.CHF: ("1.04", "1.06")}


def seed_exchange_rates(today: date) -> None:
    """Two dated rates per currency (a year apart), when the dashboard reports in EUR: enough to see
    conversions by submission day. Under another reporting currency the demo has none (shown as missing)."""
    if settings.S2O_REPORTING_CURRENCY != Currency.EUR:
        return
    for currency, (older, newer) in DEMO_RATES_TO_EUR.items():
        for valid_from, rate in ((today - timedelta(days=800), older), (today - timedelta(days=365), newer)):
            ExchangeRate.objects.get_or_create(reporting_currency=Currency.EUR, currency=currency, valid_from=valid_from,
                                               defaults={"rate": Decimal(rate)})


def seed_catalogue(users: dict[str, User]) -> Cast:
    customers = [Customer.objects.get_or_create(name=name, defaults={"code": name[:3].upper()})[0] for name in CUSTOMERS]
    products = [
        Product.objects.get_or_create(sku=sku, defaults={"name": name, "unit": unit})[0] for sku, name, unit in PRODUCTS
    ]
    departments = {d.code: d for d in Department.objects.all()}
    constraints = {c.code: c for c in ConstraintCategory.objects.all()}
    members = {code: users[code] for code in ("procurement", "stores", "manufacturing", "shipping")}
    return Cast(users, departments, customers, products, constraints, members)


def finish_demo_users(cast: Cast) -> None:
    """E-mail addresses from now on (the history sent none); old notifications count as read."""
    for user in cast.users.values():
        if not user.email:
            User.objects.filter(pk=user.pk).update(email=f"{user.username}@{DEMO_EMAIL_DOMAIN}")
    week_ago = timezone.now() - timedelta(days=7)
    Notification.objects.filter(created_at__lt=week_ago, read_at__isnull=True).update(read_at=timezone.now())


# ---------------------------------------------------------------------------------------------
# Requests: a plan per request, then its life played through the services


def weighted(rng: random.Random, weights: Mapping[K, float]) -> K:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Story:
    """One request's life, in business time of the default calendar, stopping before `now`."""

    def __init__(self, cast: Cast, rng: random.Random, cal: businesstime.WorkCalendar, now: datetime) -> None:
        self.cast, self.rng, self.cal, self.now = cast, rng, cal, now

    def later(self, start: datetime, hours: float) -> datetime:
        return businesstime.add_business_time(self.cal, start, timedelta(hours=max(hours, 0.05)))

    def fits(self, instant: datetime) -> bool:
        return instant < self.now - timedelta(minutes=1)

    def today(self, instant: datetime) -> date:
        return timezone.localdate(instant)

    # -- the request itself ------------------------------------------------------------------

    def file(self, *, submitted: datetime, target: str) -> FeasibilityRequest:
        rng = self.rng
        author = self.cast.users[weighted(rng, SALES_USERS)]
        customer = rng.choice(self.cast.customers)
        product = rng.choice(self.cast.products) if rng.random() > 0.08 else None
        unit = product.unit if product else "pcs"
        quantity = Decimal(rng.choice([50, 100, 200, 250, 500, 800, 1000, 2000, 5000]))
        requested = self.today(submitted) + timedelta(days=rng.randint(21, 120))
        price = Decimal(rng.randint(150, 25000)) / 100
        title = rng.choice(TITLES).format(
            qty=quantity, unit=unit, product=product.name if product else "custom part", customer=customer.name,
            date=requested.strftime("%d %b"),
        )
        data = {
            "title": title[:200], "customer": customer, "product": product,
            "part_description": "" if product else "Custom turned part to customer drawing",
            "quantity": quantity, "unit": unit, "requested_date": requested, "target_price": price,
            "deal_value": (price * quantity).quantize(Decimal("0.01")),
            "currency": Currency.EUR if rng.random() < 0.85 else rng.choice([Currency.USD, Currency.GBP, Currency.CHF]),
            "priority": weighted(rng, PRIORITY_WEIGHTS),
            "description": f"{customer.name} needs this for a project; target price {price} per {unit}.",
        }
        token = uuid.UUID(int=rng.getrandbits(128), version=4)
        return request_file(actor=author, data=data, token=token, submit=target != Status.DRAFT, now=submitted).request

    def clarify(self, req: FeasibilityRequest, *, asker: User, at: datetime, answer: bool) -> datetime | None:
        if not self.fits(at):
            return None
        i = self.rng.randrange(len(QUESTIONS))
        clarification_ask(request_id=req.pk, actor=asker, question=QUESTIONS[i], now=at)
        replied = self.later(at, self.rng.uniform(1, 14))
        if not answer or not self.fits(replied):
            return None
        clarification_answer(request_id=req.pk, actor=req.requested_by, body=REPLIES[i], now=replied)
        return replied

    def play(self, req: FeasibilityRequest, target: str) -> None:
        """Move the submitted request towards `target`; every step happens only if it is in the past."""
        rng, cast = self.rng, self.cast
        lead = cast.users["opslead"]
        policy = clocks.policy_for(req)  # read once per priority inside reference_data_cached()
        at = typing.cast(datetime, req.submitted_at)  # played only once submitted
        if target == Status.SUBMITTED:
            return
        if rng.random() < 0.04 and target == Status.CLOSED:  # withdrawn before Operations acknowledged
            at = self.later(at, rng.uniform(0.5, float(policy.acknowledge_hours)))
            if self.fits(at):
                request_withdraw(request_id=req.pk, actor=req.requested_by, reason="Customer cancelled the enquiry.", now=at)
            return
        if target == Status.WAITING_ON_SALES and rng.random() < 0.3:  # a question before acknowledging
            self.clarify(req, asker=lead, at=self.later(at, rng.uniform(0.2, 2)), answer=False)
            return
        ack_hours = float(policy.acknowledge_hours) * (rng.uniform(0.1, 0.9) if rng.random() < 0.8 else rng.uniform(1.05, 1.8))
        at = self.later(at, ack_hours)
        if not self.fits(at):
            return
        routed = rng.sample(sorted(cast.departments), k=rng.choice([1, 1, 2, 2, 2, 3, 4]))
        request_acknowledge(request_id=req.pk, actor=lead, departments=[cast.departments[c] for c in routed], now=at)
        req.refresh_from_db()
        if target == Status.WAITING_ON_SALES or rng.random() < 0.15:
            asker = cast.members[rng.choice(routed)]
            answer = target != Status.WAITING_ON_SALES
            replied = self.clarify(req, asker=asker, at=self.later(at, rng.uniform(1, 8)), answer=answer)
            if replied is None:
                return
            at = replied
        assessments = list(Assessment.objects.filter(request=req).select_related("department"))
        done_by = self.assess(req, assessments, target=target, not_before=at)
        if done_by is None:
            return
        self.answer_and_close(req, after=max(done_by, at), target=target)

    # -- Operations' analysis ----------------------------------------------------------------

    def assess(self, req: FeasibilityRequest, assessments: list, *, target: str, not_before: datetime) -> datetime | None:
        """Each routed department records its verdict; returns when the last one did (None: not all did)."""
        rng = self.rng
        last = None
        leave_open = target == Status.IN_ANALYSIS and rng.random() < 0.75
        for i, assessment in enumerate(assessments):
            if leave_open and i == len(assessments) - 1:
                return None
            window = businesstime.business_time_between(self.cal, assessment.routed_at, assessment.due_at).total_seconds() / 3600
            share = rng.uniform(0.2, 0.95) if rng.random() < 0.8 else rng.uniform(1.05, 1.6)
            at = max(self.later(assessment.routed_at, window * share), self.later(not_before, rng.uniform(0.2, 2)))
            if not self.fits(at):
                return None
            verdict, constraints, data = self.verdict(req, at, assessment.department.code)
            assessment.refresh_from_db()
            assessment_save(
                assessment_id=assessment.pk, actor=self.cast.members[assessment.department.code], data=data,
                constraints=constraints, expected_version=assessment.version, now=at,
            )
            last = max(last or at, at)
        return last

    def verdict(self, req: FeasibilityRequest, at: datetime, department: str) -> tuple[str, list, dict]:
        rng = self.rng
        verdict = weighted(rng, {Verdict.CAN: 45, Verdict.CAN_WITH_CONDITIONS: 35, Verdict.CANNOT: 20})
        constraints = []
        if verdict != Verdict.CAN:
            codes = {weighted(rng, CONSTRAINT_WEIGHTS) for _ in range(rng.choice([1, 1, 2]))}
            constraints = [self.cast.constraints[c] for c in sorted(codes)]
        asked = typing.cast(Decimal, req.quantity)  # a submitted request has its quantity and date
        qty = asked
        if verdict == Verdict.CAN_WITH_CONDITIONS:
            qty = (asked * Decimal(rng.choice([60, 75, 90, 100])) / 100).quantize(Decimal("1"))
        elif verdict == Verdict.CANNOT:
            qty = (asked * Decimal(rng.choice([0, 25, 40, 50])) / 100).quantize(Decimal("1"))
        wait = timedelta(days=0 if verdict == Verdict.CAN else rng.randint(7, 45))
        earliest = max(typing.cast(date, req.requested_date), self.today(at)) + wait
        data = {"verdict": verdict, "quantity_feasible": qty, "earliest_full_date": earliest, "cost_impact": None,
                "cost_currency": COST_CURRENCY, "cost_basis": ""}
        if verdict == Verdict.CAN:
            data["notes"] = "Fits the plan."
        else:
            basis, low, high, note = DEPARTMENT_COSTS[department]
            amount = Decimal(rng.randint(low, high)) / (100 if basis == CostBasis.PER_UNIT else 1)
            limits = ", ".join(c.label.lower() for c in constraints)
            data.update(cost_impact=amount, cost_basis=basis, notes=(
                f"{'Possible with conditions' if verdict == Verdict.CAN_WITH_CONDITIONS else 'Not as asked'} ({limits}). "
                + note.format(amount=amount, currency=COST_CURRENCY)
            ))
        return verdict, constraints, data

    def answer_and_close(self, req: FeasibilityRequest, *, after: datetime, target: str) -> None:
        rng, lead = self.rng, self.cast.users["opslead"]
        at = self.later(after, rng.uniform(0.5, 6))
        if not self.fits(at):
            return
        answer = self.publish(req, at, lead)
        if target == Status.ANSWERED:
            return
        if target == Status.IN_ANALYSIS:  # re-opened by Sales with new information
            at = self.later(at, rng.uniform(2, 16))
            if self.fits(at):
                revision_request(request_id=req.pk, actor=req.requested_by, reason="Customer can take a partial first delivery.",
                                 now=at)
            return
        at = self.later(at, rng.uniform(4, 60))
        if not self.fits(at):
            return
        user = req.requested_by
        roll = rng.random()
        if answer.decision in ("yes", "yes_with_conditions") and roll < 0.6:
            answer_accept(request_id=req.pk, actor=user, now=at)
        elif answer.decision == "alternatives" and roll < 0.55:
            alternative = rng.choice(list(answer.alternatives.all()))
            alternative_accept(alternative_id=alternative.pk, actor=user, now=at)
        elif answer.decision != "yes" and roll < 0.75:
            answer_decline(request_id=req.pk, actor=user, reason="The customer needs the full quantity on time.", now=at)
        else:
            outcome = Outcome.LOST if rng.random() < 0.6 else Outcome.EVAPORATED
            reason = "Customer went to a competitor." if outcome == Outcome.LOST else "The project was cancelled."
            request_close(request_id=req.pk, actor=user, outcome=outcome, reason=reason, now=at)

    def publish(self, req: FeasibilityRequest, at: datetime, lead: User) -> Answer:
        """The answer the departments' verdicts support: the composer's own suggestion (decision,
        alternatives, the constraint each works around), priced, with the cost the lead works out
        when the departments' costs are of different kinds; a "No" only when a department cannot."""
        rng = self.rng
        assessments = selectors.assessments_of(req)
        decision, alternatives = selectors.alternatives_from_assessments(req, assessments)
        cannot = [a for a in assessments if a.verdict == Verdict.CANNOT]
        if decision == Decision.ALTERNATIVES and cannot and rng.random() < 0.15:
            decision, alternatives = Decision.NO, []
        limiting = [a for a in assessments if a.verdict != Verdict.CAN]
        if decision == Decision.YES_WITH_CONDITIONS:
            cost = lead_cost(limiting, typing.cast(Decimal, req.quantity))
            alternatives = [{
                "quantity": req.quantity, "delivery_date": req.requested_date, "recommended": True,
                "conditions": "; ".join(
                    f"{a.department.name}: {', '.join(c.label.lower() for c in a.constraints.all())}" for a in limiting
                ),
                "works_around": next((c for a in limiting for c in a.constraints.all()), None),
                **({"cost_delta": cost.amount, "cost_basis": cost.basis, "cost_currency": cost.currency} if cost else {}),
            }]
        for alternative in alternatives:
            alternative["currency"] = req.currency
            if req.target_price:
                alternative["price"] = req.target_price + Decimal(rng.randint(0, 300)) / 100
            if alternative.get("cost_delta") is None and (cost := lead_cost(limiting, alternative["quantity"])):
                alternative.update(cost_delta=cost.amount, cost_basis=cost.basis, cost_currency=cost.currency)
        summary = {
            Decision.YES: "Yes, as asked.",
            Decision.YES_WITH_CONDITIONS: "Yes, with the conditions below.",
            Decision.ALTERNATIVES: "Not as asked; here is what we can do instead.",
            Decision.NO: "No: we cannot deliver this.",
        }[Decision(decision)]
        justification = ""
        if decision == Decision.NO:
            justification = " ".join(
                f"{a.department.name} cannot: {', '.join(c.label.lower() for c in a.constraints.all())}." for a in cannot
            )
        return answer_publish(
            request_id=req.pk, actor=lead, expected_version=None, decision=decision, summary=summary,
            justification=justification, alternatives=alternatives, now=at,
        )


def lead_cost(assessments: list[Assessment], quantity: Decimal) -> money.Cost | None:
    """What the lead would enter as an alternative's cost: the departments' costs, per-unit ones
    multiplied out over the alternative's quantity, as one total in the departments' currency."""
    costs = [a for a in assessments if a.cost_impact is not None]
    if not costs:
        return None
    total = sum(
        (typing.cast(Decimal, a.cost_impact) * (quantity if a.cost_basis == CostBasis.PER_UNIT else Decimal(1)) for a in costs),
        Decimal(0),
    )
    return money.Cost(total.quantize(Decimal("0.01")), costs[0].cost_currency, CostBasis.TOTAL)


def submission_time(rng: random.Random, cal: businesstime.WorkCalendar, now: datetime, target: str) -> datetime:
    """Open requests are recent; answered ones a few weeks old; closed ones anywhere in six months."""
    ages: dict[str, tuple[float, float]] = {
        Status.DRAFT: (0.1, 12), Status.SUBMITTED: (0.05, 2), Status.WAITING_ON_SALES: (3, 12),
        Status.IN_ANALYSIS: (2, 14), Status.ANSWERED: (16, 40), Status.CLOSED: (30, HISTORY_DAYS),
    }
    low, high = ages[target]
    instant = now - timedelta(days=rng.uniform(low, high))
    return businesstime.next_working_instant(cal, instant)


def seed_requests(cast: Cast, *, now: datetime, count: int) -> int:
    rng = random.Random(SEED)
    cal = clocks.default_calendar().as_work_calendar()
    plans = []
    for n in range(count):
        # One of each state first, so even a small run shows every state; then by weight.
        target = list(TARGET_WEIGHTS)[n] if n < len(TARGET_WEIGHTS) else weighted(rng, TARGET_WEIGHTS)
        plans.append((submission_time(rng, cal, now, target), target))
    plans.sort(key=lambda plan: plan[0])  # references follow submission order
    story = Story(cast, rng, cal, now)
    for submitted, target in plans:
        if not story.fits(submitted):
            submitted = now - timedelta(minutes=5)
        req = story.file(submitted=submitted, target=target)
        if target != Status.DRAFT:
            story.play(req, target)
    return len(plans)

