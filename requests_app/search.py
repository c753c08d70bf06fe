"""Full-text search over requests: the request list's and the triage's search box.

What a search reads: the reference, title, customer, part (number, name, free description), the
description and the conversation (comments, questions, replies); for readers of Operations'
internals (`s2o.read_internals`: Operations and managers), also the departments' notes.

On PostgreSQL each request row keeps two maintained `tsvector` documents with GIN indexes
(migration 0007): `search_document` (what everyone who sees the request reads) and
`search_internal` (the departments' notes, written by `analysis`, which owns them). A search
requires every word typed, with English stemming ("bracket" finds "brackets"); the last word is also
a prefix ("stainless brack" finds "stainless brackets"), being the one still typed (`prefix_query`).
It also finds the requests of customers whose name is close to what was typed (trigram similarity,
`pg_trgm`), so a misspelt customer still finds its requests. Both documents are on the request row so the planner
answers the OR with one bitmap over two GIN indexes, never a join.

The documents are refreshed by the services that write what they read (filing, editing,
submitting, the conversation here; assessments in `analysis`), in the same transaction, and can
be rebuilt in bulk (`manage.py search_reindex`, after imports or admin edits).

On SQLite (the embedded default) the same fields are matched with `icontains`: slower, no
stemming, same meaning for a single word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.contrib.postgres.search import SearchQuery, TrigramSimilarity
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from requests_app import paging, roles
from requests_app.models import Customer, FeasibilityRequest
from requests_app.roles import AnyUser

CONFIG = "english"
MAX_WORDS = 8
MAX_QUERY_LENGTH = 200
# Trigram similarity above which a customer's name counts as what was typed (pg_trgm's default is 0.3;
# higher keeps "acme" from matching every "…ac…" customer).
CUSTOMER_SIMILARITY = 0.45
MAX_SIMILAR_CUSTOMERS = 20
# Of those, only the ones within this much of the closest name count.
CUSTOMER_MARGIN = 0.1
# How many of a list's first rows (in its order) a search tests one by one before asking the index.
RECENT_ROWS = 2000
# A search's list says how many requests match up to this many ("100+" beyond): enough to decide
# whether to add a word, without reading a thousand matches of a common one on every search.
COUNT_CAP = 100

# Hyphens, slashes and underscores split words before indexing, so "S2O-2026-00234" is the words
# s2o, 2026 and 00234 (PostgreSQL's parser would read "-2026" as a signed number) and part numbers
# like "BR-4411-A" are found by any of their pieces. The query is split the same way.
_SPLIT = "translate({}, '-/_', '   ')"
_WORDS = re.compile(r"[^\W_]+")

# One statement rebuilds the public document of the given requests from their row, customer,
# part and conversation. Weights: A reference and title, B customer and part, C description,
# D the conversation (they rank matches; filtering ignores them).
_DOCUMENT_SQL_TEMPLATE = f"""
UPDATE requests_app_feasibilityrequest AS r SET search_document = doc.document
FROM (
    SELECT r2.id,
        setweight(to_tsvector('{CONFIG}', {_SPLIT.format("coalesce(r2.reference, '') || ' ' || r2.title")}), 'A')
        || setweight(to_tsvector('{CONFIG}', {_SPLIT.format(
            "c.name || ' ' || coalesce(p.sku, '') || ' ' || coalesce(p.name, '') || ' ' || r2.part_description")}), 'B')
        || setweight(to_tsvector('{CONFIG}', {_SPLIT.format("r2.description")}), 'C')
        || setweight(to_tsvector('{CONFIG}', {_SPLIT.format(
            "coalesce((SELECT string_agg(cm.body, ' ') FROM requests_app_comment cm WHERE cm.request_id = r2.id), '')")}),
            'D') AS document
    FROM requests_app_feasibilityrequest r2
    JOIN requests_app_customer c ON c.id = r2.customer_id
    LEFT JOIN requests_app_product p ON p.id = r2.product_id
    WHERE {{where}}
) AS doc
WHERE r.id = doc.id AND r.search_document IS DISTINCT FROM doc.document
"""  # nosec B608: composed from this module's own constants; every value is a query parameter


_DOCUMENT_SQL = _DOCUMENT_SQL_TEMPLATE.replace("{where}", "r2.id = ANY(%s)")
_DOCUMENT_RANGE_SQL = _DOCUMENT_SQL_TEMPLATE.replace("{where}", "r2.id BETWEEN %s AND %s")


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def split_words(text: str) -> list[str]:
    """The words of a search, as the index splits them (at most MAX_WORDS)."""
    return _WORDS.findall(text[:MAX_QUERY_LENGTH].lower())[:MAX_WORDS]


def tsvector_sql(expression: str) -> str:
    """`to_tsvector` over an SQL text expression, split like the documents (for `analysis`)."""
    return f"to_tsvector('{CONFIG}', {_SPLIT.format(expression)})"


def index_requests(request_ids: Iterable[int]) -> None:
    """Rebuild the public search document of these requests (PostgreSQL; nothing to do on SQLite).

    Called by the services that change what it reads, inside their transaction, so a search never
    misses a committed edit. Rows whose document did not change are not written."""
    ids = sorted({int(pk) for pk in request_ids})
    if not ids or not is_postgresql():
        return
    with connection.cursor() as cursor:
        cursor.execute(_DOCUMENT_SQL, [ids])


def index_range(first_id: int, last_id: int) -> None:
    """Rebuild the public document of the requests with ids in [first_id, last_id] (bulk loads)."""
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(_DOCUMENT_RANGE_SQL, [first_id, last_id])


def index_all(*, batch: int = 20_000) -> int:
    """Rebuild every request's public document, in batches of ids (the `search_reindex` command)."""
    if not is_postgresql():
        return 0
    done, last = 0, 0
    while True:
        ids = list(FeasibilityRequest.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return done
        index_requests(ids)
        done, last = done + len(ids), ids[-1]


def reads_internals(user: AnyUser | None) -> bool:
    """Whether the department notes of the requests this user sees are searched for them: the
    rulebook's `s2o.read_internals` (Operations and managers) over requests they may see, which
    the searched queryset already is."""
    return roles.is_ops(user) or roles.is_manager(user)


def prefix_query(words: list[str]) -> SearchQuery:
    """Every word required: the words before the last as typed (stemmed: "brackets" finds
    "bracket"), the last one also as a prefix ("stainless brack" finds "stainless brackets").

    This is how search-as-you-type products read a query (the last word is the one still being
    typed; a word followed by a space is finished), and it keeps a search fast: a prefix is
    matched by gathering every indexed word that starts with it before any other word can narrow
    the matches, so a short or common prefix before a rare word ("bench customer 00778") would read
    a large share of the index for nothing."""
    terms = [*words[:-1], f"{words[-1]}:*"]
    return SearchQuery(" & ".join(terms), search_type="raw", config=CONFIG)


def search_q(text: str, *, user: AnyUser | None) -> Q | None:
    """The condition a search adds to a request queryset, or None when there is nothing to search."""
    words = split_words(text)
    if not words:
        return None
    internals = reads_internals(user)
    if not is_postgresql():
        return _fallback_q(words, internals=internals)
    query = prefix_query(words)
    condition = Q(search_document=query)
    if internals:
        condition |= Q(search_internal=query)
    phrase = " ".join(words)
    closest = list(
        Customer.objects.filter(name__trigram_similar=phrase)
        .annotate(similarity=TrigramSimilarity("name", phrase))
        .filter(similarity__gte=CUSTOMER_SIMILARITY)
        .order_by("-similarity", "pk")
        .values_list("pk", "similarity")[:MAX_SIMILAR_CUSTOMERS]
    )
    # The customers as close as the closest: "Acme Industries" should not bring every "… Industries".
    similar = [pk for pk, similarity in closest if similarity >= closest[0][1] - CUSTOMER_MARGIN]
    if similar:
        condition |= Q(customer_id__in=similar)
    return condition


def _fallback_q(words: list[str], *, internals: bool) -> Q:
    """SQLite: every word somewhere in the same fields (a request matching one word in its title and
    another in a comment is found, as on PostgreSQL)."""
    condition = Q()
    for word in words:
        either = (
            Q(reference__icontains=word)
            | Q(title__icontains=word)
            | Q(customer__name__icontains=word)
            | Q(product__sku__icontains=word)
            | Q(product__name__icontains=word)
            | Q(part_description__icontains=word)
            | Q(description__icontains=word)
            | Q(pk__in=FeasibilityRequest.objects.filter(comments__body__icontains=word).values("pk"))
        )
        if internals:
            either |= Q(pk__in=FeasibilityRequest.objects.filter(assessments__notes__icontains=word).values("pk"))
        condition &= either
    return condition


def search_requests(queryset: QuerySet[FeasibilityRequest], text: str, *, user: AnyUser | None) -> QuerySet[FeasibilityRequest]:
    """`queryset` (already limited to what `user` may see) narrowed to the requests matching `text`."""
    condition = search_q(text, user=user)
    return queryset if condition is None else queryset.filter(condition)


def recent_matches(unsearched: QuerySet[FeasibilityRequest], searched: QuerySet[FeasibilityRequest],
                   condition: Q | None) -> Callable[[int], paging.Head | None]:
    """A search's first rows for `paging.paginate`'s `head`: from the list's newest rows when they
    hold them, otherwise from the full-text index in one statement.

    A word in one request in ten ("bracket", "titanium") matches tens of thousands of rows at a
    million; the full-text index must then gather all of them (100–300 ms per word at 1M, more for
    prefixes of several words) before the newest 25 can be picked. The list's own order is an
    index's (`filters.SORTS`), so its first `RECENT_ROWS` rows cost a few ms to read: the search is
    tested on each of them (in the SELECT list, where no index can take it over) and, when they
    hold the rows asked for, the index is never asked. A rarer search asks the index once for the
    ids of its first matches, as many as the count shows (`COUNT_CAP` and one), instead of once for
    the page and once more for its count."""

    def head(needed: int) -> paging.Head | None:
        if condition is None or not is_postgresql():
            return None
        window = list(
            unsearched.select_related(None)
            .annotate(search_hit=ExpressionWrapper(condition, output_field=BooleanField()))
            .values_list("pk", "search_hit")[:RECENT_ROWS]
        )
        hits = [pk for pk, hit in window if hit]
        if len(hits) >= needed or len(window) < RECENT_ROWS:
            return paging.Head(ids=hits, complete=len(window) < RECENT_ROWS, rows=unsearched)
        limit = max(needed, COUNT_CAP + 1)
        ids = list(searched.select_related(None).values_list("pk", flat=True)[:limit])
        return paging.Head(ids=ids, complete=len(ids) < limit, rows=unsearched)

    return head
