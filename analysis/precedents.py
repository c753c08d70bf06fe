"""Precedents: the earlier requests most like this one, with what Operations answered and how it ended.

Never analyse the same thing twice without knowing it: while a rep fills in a request, and while
Operations analyses it, S2O shows the answered requests most similar to it (same or similar part,
customer, quantity range and wording), each with its decision, alternatives, the constraints the
departments cited and the outcome, ranked by similarity and recency. Only requests the reader may
see are shown, and only what they may read of them (department notes and costs for Operations and
managers, `s2o.read_internals`).

How it stays fast at a million requests: a few indexed probes each bring at most `PER_PROBE`
recent candidates (same part, same customer, the words of the title and part on the search
document), then the reader's scope narrows those few hundred ids and the ranking runs on a few
columns of each in Python (`score`); only the chosen few are read whole. The ranking is the same
on PostgreSQL and SQLite; only the wording probe differs
(full-text on PostgreSQL, `icontains` on the longest words on SQLite).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from django.db.models import Prefetch, Q, QuerySet

from analysis.models import Alternative, Answer, Assessment
from requests_app import permissions, roles, search
from requests_app.models import FeasibilityRequest, Status
from requests_app.roles import Actor, AnyUser

PER_PROBE = 60
LIMIT = 5
MIN_SCORE = 0.2
# Weights of the similarity (they add up to 1): the part matters most, then the wording and the customer.
WEIGHTS = {"part": 0.35, "wording": 0.25, "customer": 0.2, "quantity": 0.1, "recency": 0.1}
RECENCY_HALF_LIFE_DAYS = 365
_WORDS = re.compile(r"[^\W_]+")
SIMILAR_WORDING = 0.2
# Words that say nothing about what is asked.
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "could", "de", "der", "die", "for", "from", "has",
    "have", "in", "is", "it", "of", "on", "or", "our", "pcs", "per", "please", "the", "their", "them", "they",
    "this", "to", "we", "with", "would", "you", "your", "need", "needs", "needed", "customer", "customers",
    "asks", "asked", "request", "units", "unit", "pieces", "piece",
})


@dataclass(frozen=True)
class Draft:
    """What is known of the request being filed or analysed (a draft may have little of it)."""

    customer_id: int | None = None
    product_id: int | None = None
    part: str = ""  # part number and name, or the free part description
    quantity: Decimal | None = None
    wording: str = ""  # title and description
    exclude_id: int | None = None

    @classmethod
    def of(cls, req: FeasibilityRequest) -> Draft:
        part = f"{req.product.sku} {req.product.name}" if req.product is not None else ""
        return cls(
            customer_id=req.customer_id, product_id=req.product_id, part=f"{part} {req.part_description}".strip(),
            quantity=req.quantity, wording=f"{req.title} {req.description}", exclude_id=req.pk,
        )

    @cached_property
    def part_words(self) -> set[str]:
        return keywords(self.part)

    @cached_property
    def wording_words(self) -> set[str]:
        return keywords(self.wording)

    @property
    def is_empty(self) -> bool:
        return not (self.customer_id or self.product_id or self.part_words or self.wording_words)


@dataclass
class Precedent:
    request: FeasibilityRequest
    score: float
    reasons: list[str]
    answer: Answer | None = None
    alternatives: list[Alternative] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    internals: bool = False  # the reader may read this request's department notes and costs


def shown_to(user: AnyUser, req: FeasibilityRequest) -> bool:
    """Whether `user` is shown the requests most like `req`: its author while it is a draft, and
    Operations and managers while it is analysed (never once it is closed: nothing is left to
    decide). `req` must be one `user` may see."""
    if req.status == Status.DRAFT:
        return permissions.allowed(user, "s2o.edit_request", req)
    return req.status != Status.CLOSED and (roles.is_ops(user) or roles.is_manager(user))


def keywords(text: str) -> set[str]:
    """The words that carry meaning, split as the search splits them and lightly stemmed
    ("brackets" and "bracket" are one word)."""
    words = set()
    for word in _WORDS.findall(text[:2000].lower()):
        if word in STOP_WORDS or len(word) < 2:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        words.add(word)
    return words


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def quantity_closeness(a: Decimal | None, b: Decimal | None) -> float:
    """1 for the same quantity, 0 at ten times more or less (on a log scale)."""
    if not a or not b or a <= 0 or b <= 0:
        return 0.0
    return max(0.0, 1.0 - abs(math.log10(float(a) / float(b))))


@dataclass(frozen=True)
class Candidate:
    """What the ranking reads of an earlier request: a few columns, not a model instance (a few
    hundred of these are ranked for every lookup; five become precedents)."""

    pk: int
    customer_id: int | None
    product_id: int | None
    part: str  # its part number, name and free description
    wording: str  # its title and description
    quantity: Decimal | None
    submitted_at: datetime | None

    FIELDS = ("pk", "customer_id", "product_id", "product__sku", "product__name", "part_description", "title",
              "description", "quantity", "submitted_at")

    @classmethod
    def of_row(cls, row: tuple) -> Candidate:
        pk, customer_id, product_id, sku, name, part_description, title, description, quantity, submitted_at = row
        part = f"{sku} {name} {part_description}" if product_id is not None else part_description
        return cls(pk=pk, customer_id=customer_id, product_id=product_id, part=part, wording=f"{title} {description}",
                   quantity=quantity, submitted_at=submitted_at)


def score(draft: Draft, req: Candidate, *, now: datetime) -> tuple[float, list[str]]:
    """How alike `req` is to the draft (0..1) and why, in words a reader understands."""
    reasons = []
    if draft.product_id and req.product_id == draft.product_id:
        part = 1.0
        reasons.append("same part")
    else:
        part = jaccard(draft.part_words, keywords(req.part))
        if part >= 0.34:
            reasons.append("similar part")
    customer = 1.0 if draft.customer_id and req.customer_id == draft.customer_id else 0.0
    if customer:
        reasons.append("same customer")
    wording = jaccard(draft.wording_words, keywords(req.wording))
    if wording >= SIMILAR_WORDING:
        reasons.append("similar wording")
    quantity = quantity_closeness(draft.quantity, req.quantity)
    if quantity >= 0.7:
        reasons.append("similar quantity")
    age_days = max(0.0, (now - (req.submitted_at or now)).total_seconds() / 86400)
    recency = 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
    total = (WEIGHTS["part"] * part + WEIGHTS["wording"] * wording + WEIGHTS["customer"] * customer
             + WEIGHTS["quantity"] * quantity + WEIGHTS["recency"] * recency)
    return round(total, 4), reasons


def _answered() -> Q:
    return Q(answered_at__isnull=False)


def _recent(condition: Q, exclude_id: int | None) -> QuerySet[FeasibilityRequest, int]:
    rows = FeasibilityRequest.objects.filter(condition, _answered())
    if exclude_id:
        rows = rows.exclude(pk=exclude_id)
    return rows.order_by("-submitted_at").values_list("pk", flat=True)[:PER_PROBE]


def _wording_condition(words: Iterable[str]) -> Q | None:
    """Requests sharing any of the words (the longest ones: they say the most)."""
    chosen = sorted(set(words), key=lambda w: (-len(w), w))[: search.MAX_WORDS]
    if not chosen:
        return None
    if search.is_postgresql():
        from django.contrib.postgres.search import SearchQuery

        return Q(search_document=SearchQuery(" | ".join(f"{w}:*" for w in chosen), search_type="raw",
                                             config=search.CONFIG))
    condition = Q()
    for word in chosen[:3]:
        condition |= Q(title__icontains=word) | Q(part_description__icontains=word)
    return condition


def candidate_ids(draft: Draft) -> set[int]:
    """A few hundred recent answered requests worth ranking, found through indexes: one statement
    (a UNION of the probes) on PostgreSQL, one per probe on SQLite."""
    probes: list[QuerySet[FeasibilityRequest, int]] = []
    if draft.product_id:
        probes.append(_recent(Q(product_id=draft.product_id), draft.exclude_id))
    if draft.customer_id:
        probes.append(_recent(Q(customer_id=draft.customer_id), draft.exclude_id))
    wording = _wording_condition(draft.part_words | draft.wording_words)
    if wording is not None:
        probes.append(_recent(wording, draft.exclude_id))
    if not probes:
        return set()
    if search.is_postgresql():
        return set(probes[0].union(*probes[1:])) if len(probes) > 1 else set(probes[0])
    return {pk for probe in probes for pk in probe}


def precedents_for(*, user: Actor, draft: Draft, now: datetime, limit: int = LIMIT) -> list[Precedent]:
    """The `limit` answered requests most like `draft` that `user` may see, most similar first
    (ties: the more recent first), each with its current answer, alternatives, assessments and
    constraints. Seven queries at most on PostgreSQL, however many requests there are."""
    if draft.is_empty:
        return []
    ids = candidate_ids(draft)
    if not ids:
        return []
    rows = (
        FeasibilityRequest.objects.visible_to(user).filter(pk__in=ids, status__in=["answered", "closed"])
        .values_list(*Candidate.FIELDS)
    )
    ranked = []
    for row in rows:
        candidate = Candidate.of_row(row)
        value, reasons = score(draft, candidate, now=now)
        if value >= MIN_SCORE and reasons:
            ranked.append((value, candidate.submitted_at.timestamp() if candidate.submitted_at else 0, candidate.pk,
                           reasons))
    ranked.sort(key=lambda r: (-r[0], -r[1]))
    chosen = ranked[:limit]
    if not chosen:
        return []
    loaded = FeasibilityRequest.objects.select_related("customer", "product").in_bulk([pk for _, _, pk, _ in chosen])
    found = [Precedent(request=loaded[pk], score=value, reasons=reasons) for value, _, pk, reasons in chosen]
    _attach_answers(found, user=user)
    return found


def _attach_answers(precedents: list[Precedent], *, user: Actor) -> None:
    by_id = {p.request.pk: p for p in precedents}
    answers = (
        Answer.objects.filter(request_id__in=by_id, published_at__isnull=False, superseded_at__isnull=True)
        .prefetch_related(Prefetch("alternatives", queryset=Alternative.objects.select_related("works_around")))
    )
    for answer in answers:
        by_id[answer.request_id].answer = answer
        by_id[answer.request_id].alternatives = list(answer.alternatives.all())
    assessments = (
        Assessment.objects.filter(request_id__in=by_id).select_related("department")
        .prefetch_related("constraints").order_by("department__name")
    )
    for assessment in assessments:
        precedent = by_id[assessment.request_id]
        precedent.assessments.append(assessment)
        for constraint in assessment.constraints.all():
            if assessment.verdict in ("cannot", "can_with_conditions") and constraint.label not in precedent.constraints:
                precedent.constraints.append(constraint.label)
    # The rulebook's `s2o.read_internals` is Operations or managers on a request they see, which
    # every precedent is (they were read through `visible_to`): no need to ask per row.
    internals = search.reads_internals(user)
    for precedent in precedents:
        precedent.internals = internals
