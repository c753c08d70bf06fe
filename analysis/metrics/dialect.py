"""Where PostgreSQL and SQLite differ, for the dashboard's hand-written SQL: nowhere else.

* Percentiles: `percentile_cont(p) WITHIN GROUP (ORDER BY …)` on PostgreSQL. SQLite (the embedded
  mode) has no ordered-set aggregates, so we register an aggregate written in Python on the
  connection, with the same linear interpolation. Still one query; only the interpolation runs in
  Python, row by row inside SQLite — fine for a laptop-sized database.
* Grouping one window several ways: `GROUPING SETS` on PostgreSQL (one pass over the input);
  SQLite has none, so there the window is a CTE grouped once per key. Same rows either way.
* Datetimes as parameters and results: SQLite stores UTC text; `adapt` and `parse_datetime` make
  both look the same to the callers.
* The big queries' session settings (PostgreSQL only): no JIT, enough `work_mem` for the sorts.

Everything else (`COUNT(*) FILTER (WHERE …)`, `UNION ALL`, `COALESCE`, `CASE`) is common SQL.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Aggregate, Expression, FloatField, TextField
from django.utils import timezone

if TYPE_CHECKING:
    from django.db.models.sql.compiler import _AsSqlType  # the stubs' (sql, params) pair

WORK_MEM = "64MB"


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


# --- percentiles ---------------------------------------------------------------------------------


def percentile_cont(values: Sequence[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _SqlitePercentile:
    """percentile_cont for SQLite: collects the group's values, interpolates like PostgreSQL."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction: Any = 0.5

    def step(self, value: float | None, fraction: Any) -> None:
        if value is not None:
            self.values.append(float(value))
            self.fraction = fraction

    def finalize(self) -> float | None:
        return percentile_cont(self.values, float(self.fraction))


class _SqlitePercentiles(_SqlitePercentile):
    # The JSON text of a list of percentiles, where the single percentile above returns a float.
    def finalize(self) -> str | None:  # type: ignore[override]
        if not self.values:
            return None
        return json.dumps([percentile_cont(self.values, float(p)) for p in json.loads(self.fraction)])


def _register_sqlite_aggregates() -> None:
    # Idempotent; done at use rather than on connection_created so it also covers a connection
    # opened before this module was imported.
    connection.ensure_connection()
    connection.connection.create_aggregate("S2O_PERCENTILE", 2, _SqlitePercentile)
    connection.connection.create_aggregate("S2O_PERCENTILES", 2, _SqlitePercentiles)


def percentile_sql(column: str, fraction: float) -> str:
    """The percentile expression for hand-written SQL."""
    if connection.vendor == "sqlite":
        _register_sqlite_aggregates()
        return f"S2O_PERCENTILE({column}, {float(fraction)!r})"
    return f"PERCENTILE_CONT({float(fraction)!r}) WITHIN GROUP (ORDER BY {column})"


class Percentile(Aggregate):
    """`percentile_cont(fraction) WITHIN GROUP (ORDER BY expr)` for the ORM."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Expression | str, fraction: float, **extra: Any) -> None:
        self.fraction = float(fraction)
        super().__init__(expression, fraction=repr(self.fraction), **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> _AsSqlType:
        _register_sqlite_aggregates()
        return _on_sqlite(self, "S2O_PERCENTILE", "%(function)s(%(expressions)s, %(fraction)s)", compiler, connection,
                          **extra_context)


class Percentiles(Aggregate):
    """Several percentiles from one sort: `percentile_cont(ARRAY[…]) WITHIN GROUP (ORDER BY expr)`.

    The value is a list (PostgreSQL float8[]; a JSON text from SQLite): read it with `percentiles()`.
    A text output field keeps Django from converting it."""

    function = "PERCENTILE_CONT"
    name = "Percentiles"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = TextField()

    def __init__(self, expression: Expression | str, fractions: tuple[float, ...], **extra: Any) -> None:
        self.fractions = tuple(float(p) for p in fractions)
        super().__init__(expression, fractions=", ".join(repr(p) for p in self.fractions), **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> _AsSqlType:
        _register_sqlite_aggregates()
        return _on_sqlite(self, "S2O_PERCENTILES", "%(function)s(%(expressions)s, '[%(fractions)s]')", compiler,
                          connection, **extra_context)


def _on_sqlite(aggregate: Aggregate, function: str, template: str, compiler: Any, connection: Any,
               **extra_context: Any) -> _AsSqlType:
    """The aggregate as SQLite's registered function: a copy with that function and template (given
    as arguments they would clash with the template Django builds for a FILTER clause)."""
    clone = aggregate.copy()
    clone.function, clone.template = function, template
    return Aggregate.as_sql(clone, compiler, connection, **extra_context)


def percentiles(value: Any, n: int = 2) -> list[float | None]:
    """The list a `Percentiles` aggregate returned, on either database."""
    if value is None:
        return [None] * n
    return json.loads(value) if isinstance(value, str) else list(value)


def grouped_median_sql(column: str, alias: str) -> tuple[str, str]:
    """A median per group of a GROUP BY that should stay a hash aggregate: (the aggregate, named
    `alias`, and the expression that turns it into the median over the grouped rows `g`).

    An ordered-set aggregate (percentile_cont) makes PostgreSQL sort the whole input by each grouping
    key; collecting each group's values (array_agg, hashable) and taking the median of each small
    array afterwards gives the same figure without those sorts (at a million requests, the teams,
    reps and customers of 90 days: ~20-35% less time)."""
    if is_postgresql():
        return (f"array_agg({column}) FILTER (WHERE {column} IS NOT NULL) AS {alias}",
                f"(SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(g.{alias}) v)")  # nosec B608
    return f"{percentile_sql(column, 0.5)} AS {alias}", f"g.{alias}"


# --- grouping one window several ways -----------------------------------------------------------


def grouping_sets(window_sql: str, keys: Sequence[tuple[str, str]], figures: str) -> str:
    """SELECT kind, k, <figures> of `window_sql` grouped by each (kind, column) of `keys` in turn.

    The result has one row per kind and key value; `k` is the key (NULL for a NULL key)."""
    if is_postgresql():
        # GROUPING(a, b, …) is a bit mask of the columns *not* grouped by: for three keys,
        # 3 = the first, 5 = the second, 6 = the third.
        columns = [column for _, column in keys]
        whens = " ".join(
            f"WHEN {(2 ** len(keys) - 1) ^ (1 << (len(keys) - 1 - i))} THEN '{kind}'" for i, (kind, _) in enumerate(keys)
        )
        return f"""
            SELECT CASE GROUPING({", ".join(columns)}) {whens} END AS kind,
                   COALESCE({", ".join(columns)}) AS k, {figures}
            FROM ({window_sql}) w
            GROUP BY GROUPING SETS ({", ".join(f"({c})" for c in columns)})"""  # nosec B608
    branches = " UNION ALL ".join(
        f"SELECT '{kind}' AS kind, {column} AS k, {figures} FROM w GROUP BY {column}" for kind, column in keys  # nosec B608
    )
    return f"WITH w AS ({window_sql}) SELECT * FROM ({branches})"  # nosec B608


# --- datetimes ----------------------------------------------------------------------------------


def adapt(moment: datetime) -> Any:
    """A datetime as a query parameter, as the ORM would pass it (SQLite: UTC text)."""
    return connection.ops.adapt_datetimefield_value(moment)


def local_date_sql(column: str) -> tuple[str, list[Any]]:
    """SQL for the local calendar day (the site's time zone) of a datetime column, and its parameters."""
    sql, params = connection.ops.datetime_cast_date_sql(column, (), timezone.get_current_timezone_name())
    return sql, list(params)


def interval_index_sql(column: str, bounds: Sequence[datetime]) -> tuple[str, list[Any]]:
    """SQL numbering the interval of sorted `bounds` a datetime column falls in: 0 before the first,
    i from bounds[i-1] (included) to bounds[i]. PostgreSQL: `width_bucket`, a binary search per row."""
    if not bounds:
        return "0", []
    if is_postgresql():
        return f"width_bucket({column}, %s::timestamptz[])", [list(bounds)]
    whens = " ".join(f"WHEN {column} >= %s THEN {i}" for i in range(len(bounds), 0, -1))
    return f"(CASE {whens} ELSE 0 END)", [adapt(b) for b in reversed(bounds)]


def parse_date(value: Any) -> date:
    """A date read back from hand-written SQL (SQLite returns text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def parse_datetime(value: Any) -> datetime:
    """A datetime read back from hand-written SQL: SQLite returns UTC text (naive under USE_TZ)."""
    if isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- the dashboard's transaction ----------------------------------------------------------------


@contextmanager
def big_queries(*, parallel: bool = True) -> Iterator[None]:
    """The dashboard's aggregates in one transaction, on PostgreSQL without JIT (PERFORMANCE.md:
    JIT compiles for 15–50 ms per big query and buys nothing here), and without parallel workers
    when `parallel` is false: statements that read a few thousand rollup rows spend more starting
    workers than they save (at 1M, the day rollup's first statement: ~40 against ~55 ms with two).

    `SET LOCAL` lasts until the end of the transaction. Inside an outer atomic block (a test, or
    ATOMIC_REQUESTS) we use that transaction instead of opening a savepoint: one query, not three.
    """
    if not is_postgresql():
        yield
        return
    if connection.in_atomic_block:
        _session_settings(parallel)
        yield
        return
    with transaction.atomic():
        _session_settings(parallel)
        yield


def _session_settings(parallel: bool) -> None:
    # One statement for the settings (set_config(..., true) is SET LOCAL). work_mem: sorting a
    # 90-day window at a million requests (percentiles, GROUP BY) takes ~20 MB; the default 4 MB
    # spills those sorts to disk.
    workers = "" if parallel else ", set_config('max_parallel_workers_per_gather', '0', true)"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true){workers}", [WORK_MEM])
