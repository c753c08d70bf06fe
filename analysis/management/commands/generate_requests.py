"""Bench data: N realistic requests over two years, written by PostgreSQL itself.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/s2o_bench python manage.py generate_requests 1000000

Why INSERT … SELECT generate_series: creating a million requests through the ORM (or through the
services, with their business-time math per row) takes hours; letting PostgreSQL produce the rows
takes a few minutes, and the dashboard only reads the stored fields anyway. The rows follow the
lifecycle a real request would have had by "now": milestones (acknowledged, answered, closed) are
only set once reached, so there are open, breached and at-risk requests near "now" and closed ones
with outcomes further back; assessments per routed department (some pending), constraints skewed so
the Pareto has a head and a tail, answers with alternatives, and pauses (waiting on Sales).

Business time is approximated on the wall clock: one business hour ≈ 4.2 wall hours (40 working
hours in a 168-hour week). Durations and met flags are consistent with the SLA policy of each
priority. Not for SQLite: it refuses to run there.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from analysis import dashboard_rollup, rollups
from analysis.models import ConstraintCategory, ConstraintHit, ImprovementAction, ImprovementActionEvent
from requests_app import search
from requests_app.models import Customer, Department, Product, Role, SalesTeam, SlaPolicy

# Which constraints bite most often: a Pareto with a head and a long tail.
POPULARITY = ["supplier_lead_time", "machine_capacity", "material", "labour", "tooling", "inventory", "freight",
              "quality", "cost_margin", "other"]
WALL = 4.2  # wall seconds per business second

REQUESTS_SQL = """
INSERT INTO requests_app_feasibilityrequest (
    reference, title, customer_id, part_description, quantity, unit, requested_date, deal_value, currency, priority,
    description, requested_by_id, sales_team_id, status, outcome, outcome_reason, created_at, submitted_at,
    acknowledge_due, acknowledged_at, answer_due, answer_due_policy, answered_at, closed_at, paused_since,
    paused_seconds, acknowledge_seconds, answer_seconds, acknowledge_met, answer_met, version, updated_at)
SELECT
    'BN' || lpad((%(offset)s + g)::text, 10, '0'), 'Bench request ' || (%(offset)s + g), cust, '',
    10 + floor(r_qty * 5000), 'pcs', (sub + interval '30 days')::date, round(exp(7 + r_deal * 6)::numeric, 2),
    CASE WHEN r_cur < 0.70 THEN 'EUR' WHEN r_cur < 0.90 THEN 'USD' WHEN r_cur < 0.97 THEN 'GBP' ELSE 'CHF' END,
    priority, '', rep, team,
    CASE WHEN ack_at > %(now)s THEN 'submitted'
         WHEN ans_at > %(now)s THEN CASE WHEN r_pause < 0.04 THEN 'waiting_on_sales' ELSE 'in_analysis' END
         WHEN closed > %(now)s THEN 'answered' ELSE 'closed' END,
    CASE WHEN closed > %(now)s THEN ''
         WHEN r_out < 0.30 THEN 'won' WHEN r_out < 0.50 THEN 'alternative_accepted' WHEN r_out < 0.70 THEN 'lost'
         WHEN r_out < 0.85 THEN 'evaporated' WHEN r_out < 0.93 THEN 'declined' ELSE 'withdrawn' END,
    '', sub - interval '10 minutes', sub,
    ack_due, CASE WHEN ack_at <= %(now)s THEN ack_at END,
    CASE WHEN ack_at <= %(now)s THEN ans_due END, CASE WHEN ack_at <= %(now)s THEN ans_due_policy END,
    CASE WHEN ans_at <= %(now)s THEN ans_at END, CASE WHEN closed <= %(now)s THEN closed END,
    CASE WHEN ack_at <= %(now)s AND ans_at > %(now)s AND r_pause < 0.04 THEN ack_at + interval '2 hours' END,
    CASE WHEN ans_at <= %(now)s THEN pause_s ELSE 0 END,
    CASE WHEN ack_at <= %(now)s THEN ack_s END, CASE WHEN ans_at <= %(now)s THEN ans_s END,
    CASE WHEN ack_at <= %(now)s THEN ack_s <= ack_h * 3600 END,
    CASE WHEN ans_at <= %(now)s THEN ans_s <= ans_h * 3600 END,
    1, LEAST(closed, %(now)s)
FROM (
    SELECT s.*,
           sub + make_interval(secs => ack_s * %(wall)s) AS ack_at,
           sub + make_interval(secs => ack_h * 3600 * %(wall)s) AS ack_due,
           sub + make_interval(secs => (ans_s + pause_s) * %(wall)s) AS ans_at,
           sub + make_interval(secs => (ans_h * 3600 + pause_s) * %(wall)s) AS ans_due,
           sub + make_interval(secs => ans_h * 3600 * %(wall)s) AS ans_due_policy,
           sub + make_interval(secs => (ans_s + pause_s) * %(wall)s) + r_close * interval '20 days' AS closed
    FROM (
        SELECT r.*, p.ack_h, p.ans_h,
               round(p.ack_h * 3600 * (0.15 + r_ack * r_ack * 1.6))::int AS ack_s,
               -- answered after acknowledged: at least half an hour after the acknowledgement
               GREATEST(round(p.ans_h * 3600 * (0.2 + r_ans * r_ans * 1.3)),
                        round(p.ack_h * 3600 * (0.15 + r_ack * r_ack * 1.6)) + 1800)::int AS ans_s,
               CASE WHEN r_pause < 0.25 THEN round(r_pause * 4 * 8 * 3600)::int ELSE 0 END AS pause_s
        FROM (
            SELECT g,
                   -- filed in id order, as a live table is written: the newest rows of a list share pages
                   %(now)s - interval '730 days' * (1 - (g - random()) / %(n)s) AS sub,
                   CASE WHEN random() < 0.2 THEN 'low' WHEN random() < 0.7 THEN 'normal'
                        WHEN random() < 0.85 THEN 'high' ELSE 'urgent' END AS priority,
                   random() AS r_ack, random() AS r_ans, random() AS r_pause, random() AS r_out, random() AS r_close,
                   random() AS r_deal, random() AS r_cur, random() AS r_qty,
                   (%(customers)s::bigint[])[1 + floor(random() * %(n_customers)s)::int] AS cust,
                   1 + floor(random() * %(n_reps)s)::int AS rep_i
            FROM generate_series(1, %(n)s) g
        ) r
        JOIN (VALUES %(policies)s) AS p(priority, ack_h, ans_h) USING (priority)
    ) s
) t
CROSS JOIN LATERAL (SELECT (%(reps)s::int[])[rep_i] AS rep, (%(teams)s::bigint[])[rep_i] AS team) who
"""

ASSESSMENTS_SQL = """
INSERT INTO analysis_assessment (request_id, request_submitted_at, department_id, routed_at, due_at, verdict,
                                 cost_currency, cost_basis, notes, version, assessed_at, assessment_seconds, met,
                                 request_open)
SELECT id, submitted, dept, routed, due,
       CASE WHEN pending THEN '' WHEN r_v < 0.5 THEN 'can' WHEN r_v < 0.8 THEN 'can_with_conditions' ELSE 'cannot' END,
       'EUR', '', '', 1,
       CASE WHEN NOT pending THEN routed + make_interval(secs => secs * %(wall)s) END,
       CASE WHEN NOT pending THEN secs END,
       CASE WHEN NOT pending THEN secs <= budget END,
       open
FROM (
    SELECT r.id, r.submitted_at AS submitted, d.id AS dept, r.acknowledged_at AS routed, random() AS r_v, budget, secs,
           r.status IN ('in_analysis', 'waiting_on_sales') AS open,
           r.acknowledged_at + make_interval(secs => budget * %(wall)s) AS due,
           r.status IN ('submitted', 'in_analysis', 'waiting_on_sales')
             AND r.acknowledged_at + make_interval(secs => secs * %(wall)s) > %(now)s AS pending
    FROM requests_app_feasibilityrequest r
    JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM requests_app_department) d
      ON d.k = r.id %% 4 OR (r.id * 7 + d.k * 5) %% 10 < 3
    JOIN (VALUES %(policies)s) AS p(priority, ack_h, ans_h) ON p.priority = r.priority
    CROSS JOIN LATERAL (SELECT round(p.ans_h * 3600 * 0.7)::int AS budget,
                               round(p.ans_h * 3600 * 0.7 * (0.2 + random() * random() * 1.4))::int AS secs) b
    WHERE r.id > %(after)s AND r.acknowledged_at IS NOT NULL
) a
"""

CONSTRAINTS_SQL = """
INSERT INTO analysis_assessment_constraints (assessment_id, constraintcategory_id)
SELECT DISTINCT id, (%(cats)s::bigint[])[1 + k2] FROM (
    SELECT a.id, floor(10 * power(random(), 2.2))::int AS k, random() AS second, random() AS other
    FROM analysis_assessment a
    WHERE a.id > %(after)s AND a.verdict IN ('cannot', 'can_with_conditions')
) x
CROSS JOIN LATERAL (VALUES (k), (CASE WHEN second < 0.3 THEN (k + 1 + floor(other * 9)::int) %% 10 END)) v(k2)
WHERE k2 IS NOT NULL
"""

ANSWERS_SQL = """
INSERT INTO analysis_answer (request_id, number, decision, summary, justification, revision_reason, version,
                             published_at)
SELECT id, 1,
       CASE WHEN outcome = 'alternative_accepted' THEN 'alternatives'
            WHEN outcome = 'won' THEN CASE WHEN random() < 0.7 THEN 'yes' ELSE 'yes_with_conditions' END
            WHEN random() < 0.3 THEN 'yes' WHEN random() < 0.5 THEN 'alternatives'
            WHEN random() < 0.7 THEN 'yes_with_conditions' ELSE 'no' END,
       '', '', '', 1, answered_at
FROM requests_app_feasibilityrequest WHERE id > %(after)s AND answered_at IS NOT NULL
"""

ALTERNATIVES_SQL = """
INSERT INTO analysis_alternative (answer_id, quantity, delivery_date, currency, cost_basis, cost_currency, conditions,
                                  recommended, position, works_around_id, accepted_at)
SELECT ans.id, r.quantity * 0.8, r.requested_date + 14, r.currency, '', 'EUR', '', pos = 0, pos,
       (%(cats)s::bigint[])[1 + floor(10 * power(random(), 2.2))::int],
       CASE WHEN pos = 0 AND r.outcome = 'alternative_accepted' THEN r.closed_at END
FROM analysis_answer ans
JOIN requests_app_feasibilityrequest r ON r.id = ans.request_id
CROSS JOIN LATERAL generate_series(0, CASE WHEN random() < 0.4 THEN 1 ELSE 0 END) pos
WHERE ans.id > %(after)s AND ans.decision IN ('alternatives', 'yes_with_conditions')
"""

PAUSES_SQL = """
INSERT INTO requests_app_pause (request_id, started_at, ended_at, business_seconds)
SELECT id, acknowledged_at + interval '2 hours',
       CASE WHEN paused_since IS NULL THEN acknowledged_at + interval '2 hours'
                                           + make_interval(secs => paused_seconds * %(wall)s) END,
       paused_seconds
FROM requests_app_feasibilityrequest
WHERE id > %(after)s AND (paused_seconds > 0 OR paused_since IS NOT NULL)
"""


# Realistic wording, so that search and precedents meet the words people use: a title like
# "500 stainless steel brackets for the new line", a description with the ask, the finish and a
# drawing, 70 % of requests on one of the bench parts, the others with a free part description.
# Picks are arithmetic on the id (repeatable, and spread so that neighbours differ).
MATERIALS = ["stainless steel", "aluminium", "brass", "titanium", "carbon steel", "copper", "PEEK", "nylon",
             "cast iron", "galvanised steel"]
PARTS = ["brackets", "flanges", "valves", "shafts", "housings", "gaskets", "hinges", "fasteners", "bushings",
         "impellers", "gear blanks", "heat sinks", "enclosures", "springs", "couplings"]
PURPOSES = ["for the new line", "for a refinery project", "for a wind farm", "for the Q3 rollout",
            "for a rail retrofit", "for a food plant", "for a pilot series", "for spare parts stock"]
ASKS = ["an earlier delivery", "a larger batch", "a lower price", "a new finish", "tighter tolerances",
        "a split delivery", "a custom drawing", "certified material", "expedited shipping", "a framework order"]
FINISHES = ["passivated", "anodised", "powder coated", "electropolished", "zinc plated", "painted RAL 7035", "bare",
            "heat treated"]
BENCH_PARTS = 300


def _pick(words: list[str], expression: str) -> str:
    return "(ARRAY[" + ", ".join("'" + w.replace("'", "''") + "'" for w in words) + f"])[1 + ({expression}) %% {len(words)}]"


TEXT_SQL = f"""
UPDATE requests_app_feasibilityrequest r SET
    title = left(floor(r.quantity)::text || ' ' || {_pick(MATERIALS, "r.id * 7")} || ' ' || {_pick(PARTS, "r.id * 11")}
                 || ' ' || {_pick(PURPOSES, "r.id * 13")}, 200),
    product_id = CASE WHEN r.id %% 10 < 7 THEN (%(parts)s::bigint[])[1 + (r.id * 17) %% %(n_parts)s] END,
    part_description = CASE WHEN r.id %% 10 < 7 THEN ''
        ELSE left({_pick(MATERIALS, "r.id * 7")} || ' ' || {_pick(PARTS, "r.id * 11")} || ', drawing '
                  || (100 + r.id %% 900)::text, 200) END,
    description = 'Customer asks for ' || {_pick(ASKS, "r.id * 19")} || ': ' || floor(r.quantity)::text || ' '
        || {_pick(PARTS, "r.id * 11")} || ', ' || {_pick(FINISHES, "r.id * 23")} || ' finish, drawing rev '
        || chr(65 + (r.id %% 6)::int) || '.',
    answer_due_promised = CASE WHEN r.acknowledged_at IS NOT NULL THEN r.answer_due_policy END
WHERE r.id BETWEEN %(first)s AND %(last)s
"""  # nosec B608: composed from this module's own constants; every value is a query parameter


# The tables whose row triggers keep the dashboard's day rollup (analysis.dashboard_rollup).
ROLLUP_TRIGGER_TABLES = ("requests_app_feasibilityrequest", "analysis_assessment", "analysis_constrainthit")


class Command(BaseCommand):
    help = "Create N realistic feasibility requests over the last two years directly in PostgreSQL (bench data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int)
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--reps", type=int, default=80)
        parser.add_argument("--teams", type=int, default=8)
        parser.add_argument("--batch", type=int, default=250_000)
        parser.add_argument("--seed", type=float, default=0.42, help="PostgreSQL setseed() value, for repeatable data.")
        parser.add_argument("--enrich-existing", action="store_true",
                            help="Give the requests already there realistic wording, bench parts, their first promise "
                                 "and search documents, and add improvement actions (for databases made before).")

    def handle(self, *args: Any, count: int, customers: int, reps: int, teams: int, batch: int, seed: float,
               enrich_existing: bool = False, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("generate_requests writes with PostgreSQL's generate_series; it does not run on SQLite.")
        if count < 1 and not enrich_existing:
            raise CommandError("count must be positive.")
        started = time.monotonic()
        people = self._people(customers=customers, reps=reps, teams=teams)
        done = 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [seed])
            if enrich_existing:
                self._enrich(cursor, people, batch=batch, started=started)
            while done < count:
                n = min(batch, count - done)
                with transaction.atomic():
                    # The day rollup's row triggers would upsert its counters once per written row
                    # (most of a batch's time): off for the batch, and the rollup rebuilt once at the end.
                    self._rollup_triggers(cursor, "DISABLE")
                    self._batch(cursor, n, people)
                    self._rollup_triggers(cursor, "ENABLE")
                done += n
                self.stdout.write(f"{done:,} requests ({time.monotonic() - started:.0f} s)")
                self.stdout.flush()
            if count > 0:
                rows = dashboard_rollup.rebuild()
                self.stdout.write(f"Day rollup rebuilt: {rows.figures:,} figure rows, {rows.minutes:,} minute rows, "
                                  f"{rows.constraint_days:,} constraint-day rows, {rows.group_days:,} group-day rows "
                                  f"({time.monotonic() - started:.0f} s)")
            self._improvement_actions()
            for table in ("requests_app_feasibilityrequest", "analysis_assessment", "analysis_assessment_constraints",
                          "analysis_answer", "analysis_alternative", "requests_app_pause", "analysis_constrainthit",
                          "analysis_dayfigure", "analysis_dayminute", "analysis_constraintday", "analysis_groupday",
                          "requests_app_product"):
                # VACUUM fills the visibility map that index-only scans need; it cannot run inside a
                # transaction (a test), where statistics alone will do.
                cursor.execute(f"{'ANALYZE' if connection.in_atomic_block else 'VACUUM ANALYZE'} {table}")
        self.stdout.write(self.style.SUCCESS(f"Created {count:,} requests in {time.monotonic() - started:.0f} s."))

    def _rollup_triggers(self, cursor: CursorWrapper, action: str) -> None:
        # A table cannot be altered while deferred checks (the foreign keys) wait on its rows: run them first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in ROLLUP_TRIGGER_TABLES:
            cursor.execute(f"ALTER TABLE {table} {action} TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _people(self, *, customers: int, reps: int, teams: int) -> dict:
        """Bench customers, teams and reps (created once, reused by later runs)."""
        existing = Customer.objects.filter(name__startswith="Bench customer ").count()
        Customer.objects.bulk_create(
            [Customer(name=f"Bench customer {i:05d}") for i in range(existing + 1, customers + 1)], batch_size=5000
        )
        team_objs = [SalesTeam.objects.get_or_create(name=f"Bench team {i + 1}")[0] for i in range(teams)]
        group = Group.objects.get_or_create(name=Role.SALES_REP)[0]
        rep_ids, team_ids = [], []
        for i in range(reps):
            user, created = User.objects.get_or_create(username=f"bench-rep-{i + 1:03d}",
                                                       defaults={"first_name": "Rep", "last_name": f"{i + 1:03d}"})
            team = team_objs[i % teams]
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(group)
                team.members.add(user)
            rep_ids.append(user.pk)
            team_ids.append(team.pk)
        customer_ids = list(Customer.objects.filter(name__startswith="Bench customer ").values_list("pk", flat=True))
        Product.objects.bulk_create(
            [Product(sku=f"BP-{i:04d}", name=f"{MATERIALS[i % len(MATERIALS)]} {PARTS[(i * 7) % len(PARTS)]}".capitalize())
             for i in range(1, BENCH_PARTS + 1)],
            ignore_conflicts=True,
        )
        part_ids = list(Product.objects.filter(sku__startswith="BP-").order_by("sku").values_list("pk", flat=True))
        codes = dict(ConstraintCategory.objects.values_list("code", "pk"))
        policies = list(SlaPolicy.objects.values_list("priority", "acknowledge_hours", "answer_hours"))
        if not policies or len(codes) < len(POPULARITY) or not Department.objects.exists():
            raise CommandError("Reference data is missing: run `manage.py migrate` first.")
        return {
            "customers": customer_ids, "n_customers": len(customer_ids), "reps": rep_ids, "teams": team_ids,
            "n_reps": len(rep_ids), "cats": [codes[c] for c in POPULARITY], "parts": part_ids, "n_parts": len(part_ids),
            "policies": ", ".join(f"('{p}', {float(a)}, {float(b)})" for p, a, b in policies),  # our own rows
        }

    def _batch(self, cursor: CursorWrapper, n: int, people: dict) -> None:
        now = timezone.now()

        def last_id(table: str) -> int:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # nosec B608
            return cursor.fetchone()[0]

        after_request, after_assessment = last_id("requests_app_feasibilityrequest"), last_id("analysis_assessment")
        after_answer = last_id("analysis_answer")
        params = {**people, "n": n, "now": now, "wall": WALL, "offset": after_request}
        policies = people["policies"]
        cursor.execute(REQUESTS_SQL.replace("%(policies)s", policies), params)
        cursor.execute(ASSESSMENTS_SQL.replace("%(policies)s", policies), {**params, "after": after_request})
        cursor.execute(CONSTRAINTS_SQL, {**params, "after": after_assessment})
        cursor.execute(ANSWERS_SQL, {**params, "after": after_request})
        cursor.execute(ALTERNATIVES_SQL, {**params, "after": after_answer})
        cursor.execute(PAUSES_SQL, {**params, "after": after_request})
        # The Pareto's rollup, from what was just written (the services keep it current for real writes).
        rollups.rebuild_constraint_hits(first_request_id=after_request + 1, day_rollup=False)
        self._words(cursor, people, first=after_request + 1, last=last_id("requests_app_feasibilityrequest"))

    def _words(self, cursor: CursorWrapper, people: dict, *, first: int, last: int) -> None:
        """Realistic wording, parts and the first promise, then the search documents, of ids [first, last]."""
        cursor.execute(TEXT_SQL, {"parts": people["parts"], "n_parts": people["n_parts"], "first": first, "last": last})
        search.index_range(first, last)

    def _enrich(self, cursor: CursorWrapper, people: dict, *, batch: int, started: float) -> None:
        cursor.execute("SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM requests_app_feasibilityrequest")
        low, high = cursor.fetchone()
        for first in range(low, high + 1, batch):
            with transaction.atomic():
                self._words(cursor, people, first=first, last=min(first + batch - 1, high))
            self.stdout.write(f"words and search documents up to id {min(first + batch - 1, high):,} "
                              f"({time.monotonic() - started:.0f} s)")

    def _improvement_actions(self) -> None:
        """Two actions per constraint (once): one done 60 days ago, one in progress, each linked to
        the requests the constraint blocked or bent before it was opened, with their history."""
        if ImprovementAction.objects.filter(title__startswith="Bench: ").exists():
            return
        lead, created = User.objects.get_or_create(username="bench-lead", defaults={"first_name": "Bench", "last_name": "Lead"})
        if created:
            lead.set_unusable_password()
            lead.save(update_fields=["password"])
            lead.groups.add(Group.objects.get_or_create(name=Role.OPS_LEAD)[0])
        now = timezone.now()
        day = timedelta(days=1)
        departments = list(Department.objects.order_by("pk"))
        for i, category in enumerate(ConstraintCategory.objects.order_by("sort_order")):
            for opened, started, finished in ((now - 150 * day, now - 120 * day, now - 60 * day),
                                              (now - 30 * day, now - 20 * day, None)):
                status = ImprovementAction.Status.DONE if finished else ImprovementAction.Status.IN_PROGRESS
                action = ImprovementAction.objects.create(
                    constraint=category, title=f"Bench: address {category.label.lower()} ({status.label.lower()})",
                    owner=lead, created_by=lead, target_date=(opened + 90 * day).date(), status=status,
                    expected_effect=f"{category.label} blocks half as many requests.", created_at=opened,
                    started_at=started, finished_at=finished,
                )
                action.departments.set(departments[i % len(departments):][:2])
                action.requests.set(
                    ConstraintHit.objects.filter(constraint=category, submitted_at__lt=opened)
                    .order_by("-submitted_at").values_list("request_id", flat=True)[:20]
                )
                moves = [("", "proposed", opened), ("proposed", "in_progress", started)]
                if finished:
                    moves.append(("in_progress", "done", finished))
                ImprovementActionEvent.objects.bulk_create([
                    ImprovementActionEvent(action=action, actor=lead, from_status=a, to_status=b, at=at)
                    for a, b, at in moves
                ])
