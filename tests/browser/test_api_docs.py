"""The API's documentation in a real browser: Swagger UI and Redoc load every file from the app
and run under the site's Content Security Policy — no inline script, nothing from another origin
— and render the operations."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def watch(page: Any) -> tuple[list[str], list[str]]:
    """Console messages about the CSP, and every URL the page fetched."""
    violations: list[str] = []
    fetched: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.on("request", lambda request: fetched.append(request.url))
    return violations, fetched


def test_swagger_ui_renders_the_operations_under_the_csp(pages, rep) -> None:
    page = pages.open(rep)
    violations, fetched = watch(page)
    page.goto("/api/docs/")
    page.locator(".opblock-summary-path", has_text="/api/v1/requests/{reference}/withdraw/").first.wait_for()
    assert page.locator(".opblock").count() > 20
    assert violations == []
    assert all(url.startswith(pages.base_url) for url in fetched), fetched


def test_redoc_renders_the_operations_under_the_csp_without_inline_script(pages, rep) -> None:
    page = pages.open(rep)
    violations, fetched = watch(page)
    page.goto("/api/redoc/")
    page.locator("h2", has_text="Withdraw the request").first.wait_for()
    assert page.get_by_role("heading", name="S2O API").count() >= 1
    # Redoc's "API docs by Redocly" footer asks for its logo from Redocly's CDN: the CSP blocks it
    # (an empty image, nothing else). Nothing else is refused, and nothing else leaves the site.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [v for v in violations if logo not in v] == []
    assert all(url.startswith((pages.base_url, "blob:", logo)) for url in fetched), fetched
    policy = page.evaluate("() => fetch(location.href).then(r => r.headers.get('content-security-policy'))")
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
