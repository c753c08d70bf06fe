"""With S3_BUCKET set, attachments and kept uploads live in an S3-compatible bucket that several web
machines share, and downloads still pass through the permission check. The bucket is a real S3 API
on loopback: moto in server mode, started on a free port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from requests_app import services
from requests_app.models import FeasibilityRequest
from tests.requests_app.sales_factories import filing_form_data as post_data

PDF = b"%PDF-1.4\nbracket drawing\n%%EOF\n"
BUCKET = "s2o-test"

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def bucket(s3_endpoint, settings):
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    name = f"{BUCKET}-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": name, "endpoint_url": s3_endpoint, "region_name": "us-east-1",
                        "access_key": "test", "secret_key": "test", "location": "media", "default_acl": None,
                        "file_overwrite": False, "addressing_style": "path"},
        },
    }

    def keys(prefix: str = "") -> list[str]:
        listed = client.list_objects_v2(Bucket=name, Prefix=f"media/{prefix}")
        return sorted(item["Key"] for item in listed.get("Contents", []))

    return keys


def test_an_attachment_is_stored_in_the_bucket_and_downloaded_through_the_permission_check(
    client, rep, other_rep, customer, product, bucket
):
    client.force_login(rep)
    client.post(reverse("requests_app:create"),
                post_data(customer, product, attachments=SimpleUploadedFile("drawing.pdf", PDF, "application/pdf")))
    req = FeasibilityRequest.objects.get()
    attachment = req.attachments.get()

    assert bucket("attachments/") == [f"media/{attachment.file.name}"]
    download = client.get(reverse("requests_app:attachment", args=[req.pk, attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith('attachment; filename="drawing.pdf"')
    assert download["X-Content-Type-Options"] == "nosniff"

    client.force_login(other_rep)
    assert client.get(reverse("requests_app:attachment", args=[req.pk, attachment.pk])).status_code == 404


def test_files_kept_for_an_invalid_form_live_in_the_bucket_until_the_form_files(client, rep, customer, product, bucket):
    client.force_login(rep)
    data = post_data(customer, product, title="", attachments=SimpleUploadedFile("drawing.pdf", PDF, "application/pdf"))

    assert client.post(reverse("requests_app:create"), data).status_code == 400
    staged = services.staged_files(token=data["token"], user=rep)
    assert [f.name for f in staged] == ["drawing.pdf"]
    assert len(bucket(f"staging/{rep.pk}/")) == 2  # the file and its index

    fixed = {**post_data(customer, product, token=data["token"]), "keep_staged": [staged[0].key]}
    client.post(reverse("requests_app:create"), fixed)

    assert FeasibilityRequest.objects.get().attachments.get().file.read() == PDF
    assert bucket("staging/") == []


def test_abandoned_staged_files_are_purged_from_the_bucket(rep, bucket):
    token = uuid.uuid4()
    services.staging_add(token=token, user=rep, uploads=[SimpleUploadedFile("a.pdf", PDF)])

    assert services.staging_purge(older_than=timezone.now() - timedelta(hours=1)) == 0
    assert services.staging_purge(older_than=timezone.now() + timedelta(minutes=1)) == 1
    assert bucket("staging/") == []


def test_the_per_user_staged_total_holds_in_the_bucket(rep, bucket):
    for _ in range(3):
        services.staging_add(token=uuid.uuid4(), user=rep, uploads=[SimpleUploadedFile(f"{i}.pdf", PDF) for i in range(10)])

    stored = [key for key in bucket(f"staging/{rep.pk}/") if not key.endswith("index.json")]
    assert len(stored) == services.STAGED_FILES_PER_USER
