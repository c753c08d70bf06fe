"""Faults against the real services, inside a request: the PostgreSQL connection the view uses is
terminated (pg_terminate_backend, from another connection) while the view is saving. The user gets
the product's 500 page, never a traceback, and nothing of the request was half-saved; the next
request gets a new connection and works."""

from __future__ import annotations

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from requests_app.models import Attachment, FeasibilityRequest, Notification, RequestEvent
from tests.conftest import is_postgres, need
from tests.requests_app.sales_factories import filing_form_data
from tests.s2o.celery_fixtures import worker_database_url

PDF = b"%PDF-1.4\n" + b"x" * 512 + b"\n%%EOF\n"


class TerminateOnce:
    """A query hook (connection.execute_wrapper) that, when the view first runs a query matching
    `marker`, has another connection terminate this connection's server process, then lets the
    query go to the dead connection."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.fired = False

    def __call__(self, execute, sql, params, many, context):
        if not self.fired and self.marker in sql:
            self.fired = True
            pid = context["connection"].connection.get_backend_pid()
            other = psycopg2.connect(worker_database_url())
            try:
                other.autocommit = True
                with other.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                    assert cursor.fetchone()[0] is True
            finally:
                other.close()
        return execute(sql, params, many, context)


@pytest.fixture
def postgres(transactional_db):
    need(is_postgres(), "needs PostgreSQL (set DATABASE_URL) to terminate a connection")


@pytest.mark.parametrize("marker", ['INSERT INTO "requests_app_requestevent"', 'INSERT INTO "requests_app_attachment"',
                                    'INSERT INTO "requests_app_notification"'])
def test_a_connection_dropped_while_filing_shows_the_error_page_and_saves_nothing(
    postgres, rep, ops_lead, customer, product, settings, tmp_path, marker
):
    settings.MEDIA_ROOT = tmp_path
    client = Client(raise_request_exception=False)
    client.force_login(rep)
    data = filing_form_data(customer, product, title="Brackets for the dropped connection",
                            attachments=SimpleUploadedFile("drawing.pdf", PDF, content_type="application/pdf"))
    hook = TerminateOnce(marker)

    with connection.execute_wrapper(hook):
        response = client.post(reverse("requests_app:create"), data)

    assert hook.fired, f"the view never ran {marker}"
    assert response.status_code == 500
    page = response.content.decode()
    assert "500 — something went wrong on our side" in page
    assert "Traceback" not in page and "OperationalError" not in page and "terminating connection" not in page
    # Nothing half-saved: no request, no timeline, no attachment row, nobody told.
    assert not FeasibilityRequest.objects.exists()
    assert not RequestEvent.objects.exists() and not Attachment.objects.exists()
    assert not Notification.objects.exists()
    # The next request gets a new connection, and the same form files.
    again = client.post(reverse("requests_app:create"), {**data, "attachments": SimpleUploadedFile(
        "drawing.pdf", PDF, content_type="application/pdf")})
    assert again.status_code == 302
    assert FeasibilityRequest.objects.get().title == "Brackets for the dropped connection"
