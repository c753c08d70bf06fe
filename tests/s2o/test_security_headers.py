"""Every page and API GET URL the resolver knows, under the production settings (DEBUG=0, read
from s2o/settings.py in a fresh interpreter), answers with the security headers whatever its
status: HSTS, nosniff, a referrer policy, no framing, and a CSP that allows no inline script —
and no HTML page carries inline script or an inline event handler that such a CSP would block.
The expected values are written by hand (shared/RELIABILITY.md, rule 9)."""

from __future__ import annotations

import json
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.s2o.test_settings import production_env, run_python
from tests.test_authorization_matrix import (
    API_EXPECTED,
    EXPECTED,
    api_call,
    kwargs_for,
    resolver_urls,
    world,  # noqa: F401  (a fixture)
)

SECURITY_SETTINGS = [
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY", "SECURE_CROSS_ORIGIN_OPENER_POLICY", "X_FRAME_OPTIONS", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "CONTENT_SECURITY_POLICY",
    "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER",
]
DUMP = ("import json, django\nfrom django.conf import settings\ndjango.setup()\n"
        f"print(json.dumps({{k: getattr(settings, k, None) for k in {SECURITY_SETTINGS!r}}}))")

ROLES_TO_TRY = ("anonymous", "rep", "ops_member", "ops_lead", "manager")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.fixture(scope="module")
def production_security(tmp_path_factory) -> dict:
    result = run_python(DUMP, production_env(tmp_path_factory.mktemp("prod")))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def production(settings, production_security) -> None:
    for name, value in production_security.items():
        if name == "SECURE_PROXY_SSL_HEADER" and value:
            value = tuple(value)
        setattr(settings, name, value)


def csp_directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def check_headers(response, url: str) -> list[str]:
    problems = []
    wanted = {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    for header, value in wanted.items():
        if response.get(header) != value:
            problems.append(f"{url} {response.status_code}: {header}={response.get(header)!r}")
    csp = csp_directives(response.get("Content-Security-Policy", ""))
    script = csp.get("script-src", csp.get("default-src"))
    if script is None or "'unsafe-inline'" in script or "'unsafe-eval'" in script or "*" in script:
        problems.append(f"{url}: script-src {script!r}")
    if csp.get("frame-ancestors") != ["'none'"] and "sandbox" not in csp:
        problems.append(f"{url}: frame-ancestors {csp.get('frame-ancestors')!r}")
    if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
        html = response.content.decode()
        if INLINE_SCRIPT.search(html) or INLINE_HANDLER.search(html):
            found = (INLINE_SCRIPT.search(html) or INLINE_HANDLER.search(html)).group(0)
            problems.append(f"{url}: inline script {found[:80]!r}")
    return problems


def test_every_get_url_answers_with_the_security_headers_in_production(production, world, request):  # noqa: F811
    urls = resolver_urls()
    targets = [reverse(name, kwargs=kwargs_for(urls[name], name, world))
               for name, (method, _row) in EXPECTED.items() if method == "get"]
    assert len(targets) >= 40
    problems, statuses = [], set()
    for role in ROLES_TO_TRY:
        client = Client()  # a new handler: the middleware reads the production settings
        if role != "anonymous":
            client.force_login(request.getfixturevalue(role))
        for url in targets:
            response = client.get(url, secure=True)
            statuses.add(response.status_code)
            problems += check_headers(response, url)
    assert problems == [], "\n".join(problems[:20])
    assert {200, 302, 403, 404} <= statuses  # pages, redirects and refusals alike were checked


def test_every_api_get_url_answers_with_the_security_headers_in_production(
    production, world, customer, product  # noqa: F811
):
    from tests.integrations.api_support import token_for

    world = {**world, "customer": customer, "product": product}
    client = Client(headers={"Authorization": f"Bearer {token_for(world['answered'].requested_by)}"})
    problems = []
    for name, (method, _row) in API_EXPECTED.items():
        if method == "get":
            url, _ = api_call(name, world)
            problems += check_headers(client.get(url, secure=True), url)
    assert problems == [], "\n".join(problems)


def test_plain_http_is_sent_to_https_and_the_log_in_cookies_are_secure(production, rep):
    client = Client()
    assert client.get("/requests/").status_code == 301

    with time_machine.travel(timezone.now(), tick=False):
        response = client.post("/accounts/login/", {"username": rep.username, "password": "pw-" + rep.username},
                               secure=True)
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert int(session["max-age"]) == 12 * 3600
    csrf = client.get("/accounts/login/", secure=True).cookies.get("csrftoken") or client.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
