"""Pages of a list whose cost does not grow with the table: no full count, a bounded depth.

Django's `Paginator` counts every row of the list to number the pages: at a million visible
requests that count is a scan of the whole visible set on every view (hundreds of ms), whatever
page is shown. A page here reads its rows plus one (`LIMIT per_page + 1`: is there a next page?)
and a count only up to a cap (`SELECT count(*) FROM (… LIMIT cap + 1)`), shown as "1,000+" beyond
it; the count is skipped whenever the rows read already tell it (a last page). With a sort an
index answers, PostgreSQL stops after the page's rows: the first pages cost the same at 10k and at
1M rows.

Depth is bounded: page `n` reads `(n - 1) × per_page` rows it does not show (OFFSET), so pages stop
at `max_rows` (10,000 rows by default: 400 pages of 25); deeper than that the page says to narrow
the filters or export the list. Nobody reads past page 400 of a list; an attacker asking for
page 40,000 would otherwise make the database walk a million rows.

Used by every list that can grow: `paginate(queryset, request.GET.get("page"))`, then
`{% include "_pager.html" with page=page query=query noun="requests" %}` in the template (`query`
is the list's other GET parameters, url-encoded, without `page`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

PER_PAGE = 25
COUNT_CAP = 1000
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Page:
    """One page: its rows, where it is, and how many rows the list has (exact up to the cap)."""

    object_list: list[Any]
    number: int
    per_page: int
    has_next: bool
    count: int  # exact when `count_capped` is false; otherwise the cap ("cap+")
    count_capped: bool
    last_number: int  # the deepest page that may be asked for
    truncated: bool  # rows exist past the last reachable page: narrow the list (or export it)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        """1-based position of the first row shown (0 on an empty page)."""
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)

    @property
    def range_label(self) -> str:
        """"26–50": which rows of the list this page shows."""
        return f"{self.start_index:,}–{self.end_index:,}"

    @property
    def count_label(self) -> str:
        """"37" or "1,000+": what the page says the list holds."""
        return f"{self.count:,}+" if self.count_capped else f"{self.count:,}"



@dataclass(frozen=True)
class Head:
    """The first rows of a list, in its order, found a cheaper way than the list's own query
    (`search.recent_matches`): their ids, whether they are all of the list's rows, and where to
    read them by id (the list without the condition already tested: with it, PostgreSQL may
    answer "these 26 ids" through that condition's index)."""

    ids: list[int]
    complete: bool
    rows: QuerySet


def page_number(raw: str | None, *, last: int) -> int:
    """The asked page as a number from 1 to `last`; anything else ("x", "-3", "") is page 1."""
    text = (raw or "").strip()
    if not text.isdecimal():  # isdecimal, not isdigit: "²" is a digit that int() refuses
        return 1
    return max(1, min(int(text), last))


def paginate(queryset: QuerySet, raw_page: str | None, *, per_page: int = PER_PAGE, count_cap: int = COUNT_CAP,
             max_rows: int = MAX_ROWS, by_ids: bool = False, head: Callable[[int], Head | None] | None = None) -> Page:
    """Page `raw_page` of an ordered queryset in at most two queries: the rows (one more than
    shown; with `by_ids`, picked by their ids in a subquery without the display joins) and, only
    when more rows follow, a count capped at `count_cap`.

    `head(n)`, when given, may find the list's first `n` rows (or more) more cheaply than the list's
    own query (`search.recent_matches`): when they reach past the asked page, or are the whole
    list, the page is read by their ids, and the count is what they tell (at least that many,
    "40+", unless they are all)."""
    last = max(1, max_rows // per_page)
    number = page_number(raw_page, last=last)
    offset = (number - 1) * per_page
    found = head(offset + per_page + 1) if head is not None else None
    if found is not None and (found.complete or len(found.ids) > offset + per_page):
        ids = found.ids[offset:offset + per_page + 1]
        by_pk = {row.pk: row for row in found.rows.filter(pk__in=ids)} if ids else {}
        rows = [by_pk[pk] for pk in ids if pk in by_pk]
        if number > 1 and not rows:
            return paginate(queryset, "1", per_page=per_page, count_cap=count_cap, max_rows=max_rows, by_ids=by_ids,
                            head=head)
        more = len(ids) > per_page
        total = min(len(found.ids), count_cap)
        return Page(object_list=rows[:per_page], number=number, per_page=per_page, has_next=more and number < last,
                    count=total, count_capped=not found.complete or len(found.ids) > count_cap, last_number=last,
                    truncated=more and number >= last)
    if by_ids:
        # The page's ids are chosen without the joins that only display needs (customer, author…),
        # then read with them: joined, PostgreSQL may drive a search from the 80 authors and repeat
        # a full-text index scan for each (a rep's search at 1M: 12-20 s, under 1 s this way).
        rows = list(queryset.filter(pk__in=queryset.select_related(None).values("pk")[offset:offset + per_page + 1]))
    else:
        rows = list(queryset[offset:offset + per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    if number > 1 and not rows:  # past the end (a list that shrank, an edited URL): the first page
        return paginate(queryset, "1", per_page=per_page, count_cap=count_cap, max_rows=max_rows, by_ids=by_ids)
    if not more:
        count, capped = offset + len(rows), False
    elif offset + per_page >= count_cap:
        count, capped = count_cap, True  # already past the cap: nothing to count
    else:
        # Without the page's order and joins: any plan that finds cap + 1 rows will do.
        count = queryset.order_by().select_related(None).values("pk")[: count_cap + 1].count()
        count, capped = min(count, count_cap), count > count_cap
    return Page(object_list=rows, number=number, per_page=per_page, has_next=more and number < last, count=count,
                count_capped=capped, last_number=last, truncated=more and number >= last)
