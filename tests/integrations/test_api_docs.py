"""Who reads the API's documentation: the schema answers a logged-in user or a token (401 for
anyone else); Swagger UI and Redoc send an anonymous visitor to the login page; every file they
load is served by the app itself."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.integrations.api_support import api

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_get_no_schema_and_are_sent_to_log_in_for_the_docs():
    anonymous = Client()
    assert anonymous.get("/api/schema/").status_code == 401
    for url in ("/api/docs/", "/api/redoc/", "/api/docs/?script="):
        response = anonymous.get(url)
        escaped = url.replace("?", "%3F").replace("=", "%3D")
        assert response.status_code == 302 and response["Location"] == f"/accounts/login/?next={escaped}"


def test_a_logged_in_user_or_a_token_reads_the_schema(client, rep, nobody):
    client.force_login(nobody)
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.") and document["info"]["title"] == "S2O API"
    assert "/api/v1/requests/{reference}/withdraw/" in document["paths"]
    assert document["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "s2o_<prefix>_<secret>",
        "description": "A personal token from Preferences → API tokens.",
    }
    assert api(rep).get("/api/schema/").status_code == 200


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_docs_load_every_file_from_the_app_and_no_inline_script(client, rep, url):
    client.force_login(rep)
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(source.startswith("/") for source in sources), sources
    assert "cdn" not in page.lower() and "googleapis" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
    assert "<style" not in page
    assert "no-cache" in response["Cache-Control"]
    for source in sources:
        if source.startswith("/static/"):
            assert client.get(source).status_code == 200, source


def test_swagger_uis_start_up_script_is_a_file_of_its_own(client, rep):
    client.force_login(rep)
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode() and "/api/schema/" in script.content.decode()


def test_only_the_redoc_page_allows_inline_styles_and_none_allows_inline_script(client, rep):
    client.force_login(rep)
    swagger = client.get("/api/docs/")["Content-Security-Policy"]
    redoc = client.get("/api/redoc/")["Content-Security-Policy"]
    assert "'unsafe-inline'" not in swagger
    directives = dict(d.strip().split(" ", 1) for d in redoc.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self' 'unsafe-inline'"
