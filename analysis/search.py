"""The departments' notes in the request search (`requests_app.search`, which reads them only for
readers of Operations' internals). The notes are Operations' data, so this app writes them into the
request row's `search_internal` document; `requests_app` never reads Operations' tables itself."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from requests_app import search
from requests_app.models import FeasibilityRequest

_INTERNAL_SQL = f"""
UPDATE requests_app_feasibilityrequest AS r SET search_internal = doc.document
FROM (
    SELECT r2.id, {search.tsvector_sql(
        "coalesce((SELECT string_agg(a.notes, ' ') FROM analysis_assessment a WHERE a.request_id = r2.id), '')")}
        AS document
    FROM requests_app_feasibilityrequest r2
    WHERE r2.id = ANY(%s)
) AS doc
WHERE r.id = doc.id AND r.search_internal IS DISTINCT FROM doc.document
"""  # nosec B608: composed from this module's own constants; every value is a query parameter


def index_internal(request_ids: Iterable[int]) -> None:
    """Rebuild the notes document of these requests (PostgreSQL only), in the caller's transaction."""
    ids = sorted({int(pk) for pk in request_ids})
    if not ids or not search.is_postgresql():
        return
    with connection.cursor() as cursor:
        cursor.execute(_INTERNAL_SQL, [ids])


def reindex_all(*, batch: int = 20_000) -> int:
    """Both documents of every request, in batches of ids (`manage.py search_reindex`)."""
    if not search.is_postgresql():
        return 0
    done, last = 0, 0
    while True:
        ids = list(FeasibilityRequest.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return done
        search.index_requests(ids)
        index_internal(ids)
        done, last = done + len(ids), ids[-1]
