"""Browser tests: Debian's Chromium driven by Playwright against the live test server on loopback.

Each page a test visits can be checked with axe-core (served from node_modules, injected through
the DevTools protocol so the page's strict CSP still applies to the page itself) and for horizontal
overflow at a phone's width. A failing test leaves a screenshot and the HTML of every page it had
open in `var/browser-failures/` (`<test>-<context>-<page>.png` and `.html`).

Chromium comes from Debian's packages (`chromium`); Playwright's own browser download does not work
on the factory networks S2O targets, so the tests launch the system binary. `.ci/run` installs it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import need

CHROMIUM = Path(os.environ.get("S2O_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SOURCE = Path(settings.BASE_DIR, "node_modules", "axe-core", "axe.min.js")
FAILURES = Path(settings.BASE_DIR, "var", "browser-failures")
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}


# Package scope: Chromium (and the event loop Playwright runs) live only while tests/browser runs.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    need(CHROMIUM.exists(), f"needs Chromium at {CHROMIUM} (Debian package 'chromium')")
    need(AXE_SOURCE.exists(), "needs axe-core from npm (python3 dev.py setup)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
    # with a running loop unless told that this is deliberate (the tests' own fixtures use the ORM).
    # Set only while the browser tests run, so no other test (or subprocess it starts) inherits it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[Any]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


class Pages:
    """Browser contexts (one per persona and viewport) on the live server; remembers every page
    it opened so a failing test can leave screenshots of them."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[Any] = []

    def open(self, user: Any = None, *, viewport: dict[str, int] = DESKTOP) -> Any:
        """A new page, logged in as `user` (a session made by Django's test client), or anonymous."""
        context = self.browser.new_context(viewport=viewport, base_url=self.base_url, locale="en-GB")
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": self.base_url}])
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    def screenshots(self, name: str) -> None:
        """A screenshot and the HTML (as the browser holds it now) of every open page."""
        FAILURES.mkdir(parents=True, exist_ok=True)
        for i, context in enumerate(self.contexts):
            for j, page in enumerate(context.pages):
                # A page that cannot be drawn or read must not hide the real failure.
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(FAILURES / f"{name}-{i}-{j}.png"), full_page=True)
                with contextlib.suppress(Exception):
                    (FAILURES / f"{name}-{i}-{j}.html").write_text(page.content(), encoding="utf-8")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Any, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Pages]:
    opened = Pages(browser, live_server.url)
    yield opened
    if request.node.stash.get(_FAILED, False):
        opened.screenshots(re.sub(r"[^\w.-]+", "_", request.node.name))
    opened.close()


def axe_violations(page: Any, impacts: tuple[str, ...] = ("critical", "serious")) -> list[dict[str, Any]]:
    """axe-core's violations of the given impacts on the page as it stands now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in impacts]


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['impact']} {v['id']} ({len(v['nodes'])}×): {v['help']} — e.g. {v['nodes'][0]['target']}" for v in violations
    )


def assert_accessible(page: Any) -> None:
    """No critical or serious axe-core violation on the page."""
    violations = axe_violations(page)
    assert not violations, f"{page.url}\n{describe(violations)}"


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the document is wider than the viewport (0: no sideways scrolling)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


# Each visible control of a form inside the form's box and the viewport, and each <select> wide
# enough for the text of every choice (the browser cuts a choice's text at the select's padding).
CUT_OFF = """form => {
  const problems = [];
  const box = form.getBoundingClientRect();
  for (const el of form.querySelectorAll('select, input:not([type=hidden]), button, .ts-wrapper')) {
    if (!el.checkVisibility()) continue;
    const r = el.getBoundingClientRect();
    if (r.left < box.left - 1 || r.right > box.right + 1 || r.left < 0 || r.right > innerWidth)
      problems.push(`${el.name || el.className} spans ${Math.round(r.left)}–${Math.round(r.right)} px`);
  }
  const ctx = document.createElement('canvas').getContext('2d');
  for (const select of form.querySelectorAll('select')) {
    const style = getComputedStyle(select);
    ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    for (const option of select.options) {
      const need = ctx.measureText(option.text).width;
      if (need > room + 0.5)
        problems.push(`${select.name}: "${option.text}" needs ${Math.round(need)} px, has ${Math.round(room)}`);
    }
  }
  return problems;
}"""


def controls_cut_off(page: Any, form: str) -> list[str]:
    """What of the form's controls is cut off or out of sight (empty: every control reads whole)."""
    return page.eval_on_selector(form, CUT_OFF)
