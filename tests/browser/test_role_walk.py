"""Every page each demo role can reach, in a real browser, on a desk and on a phone.

On the demo data (`seed_demo`, a small run: every state of a request), each role starts at home
and follows every link it is shown inside the site (one page per URL shape, plus the request page
in each state it may see and the forms those pages offer). Each page is checked with axe-core
(no critical or serious violation), for landmarks, a skip link and named controls, and then at
375 px for horizontal scrolling. A keyboard-only user files a request without touching the mouse.
"""

from __future__ import annotations

import re
from io import StringIO
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from analysis.models import Assessment
from requests_app.models import Customer, FeasibilityRequest, Product, Status
from tests.browser.conftest import DESKTOP, PHONE, axe_violations, describe, horizontal_overflow

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

DEMO_REQUESTS = 24
# Never followed: they end the session, download a file or leave the product's own pages.
SKIP = re.compile(r"^/(accounts/logout|admin/|api/|static/|media/|healthz|anymail/)|\.(csv|json)$|/attachments/\d+/")
MAX_PAGES = 80

# Checked on every page besides axe: what a keyboard or screen-reader user needs to find their way.
STRUCTURE = """() => {
  const problems = [];
  const skip = document.querySelector('a.skip-link[href="#main"]');
  if (!skip) problems.push('no skip link to #main');
  if (!document.querySelector('main#main')) problems.push('no <main id="main">');
  if (!document.querySelector('nav, [role=navigation]')) problems.push('no navigation landmark');
  for (const th of document.querySelectorAll('table th')) {
    if (!th.getAttribute('scope')) problems.push('th without scope: ' + th.textContent.trim().slice(0, 30));
    if (!th.textContent.trim() && !th.getAttribute('aria-label')) problems.push('empty table header');
  }
  const controls = 'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea';
  for (const el of document.querySelectorAll(controls)) {
    const named = el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.title;
    if (!named) problems.push('control without a label: ' + (el.name || el.id || el.outerHTML.slice(0, 60)));
  }
  return problems;
}"""

# What sticks out at a phone's width: the outermost elements wider than the viewport.
WIDE = """() => {
  const clipped = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true; } return false; };
  const wide = [...document.body.querySelectorAll('*')].filter(
    el => el.getBoundingClientRect().right > innerWidth + 1 && !clipped(el));
  const outer = wide.filter(el => !wide.includes(el.parentElement) || el.parentElement === document.body);
  return outer.slice(0, 3).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' ' + Math.round(el.getBoundingClientRect().width) + 'px');
}"""

ROLES = {
    "rep": "rep1",
    "sales manager": "salesmgr",
    "ops member": "procurement",
    "ops lead": "opslead",
    "manager": "manager",
}


@pytest.fixture
def demo(settings) -> None:
    settings.DEVELOPMENT = True
    call_command("seed_demo", requests=DEMO_REQUESTS, stdout=StringIO())


def starting_points(user: User) -> list[str]:
    """Home, one request page in each state the user may see, and the forms its pages link to
    (found by the walk itself)."""
    urls = ["/"]
    visible = FeasibilityRequest.objects.visible_to(user)
    for status in Status.values:
        req = visible.filter(status=status).order_by("-pk").first()
        if req is not None:
            urls.append(req.get_absolute_url())
    mine = Assessment.objects.filter(department__members=user, request__status=Status.IN_ANALYSIS).first()
    if mine is not None:
        urls.append(f"/ops/requests/{mine.request_id}/assessments/{mine.department.code}/")
    return urls


def shape(path: str) -> str:
    """One page per URL shape: /requests/12/ and /requests/40/ are the same page."""
    return re.sub(r"\d+", "N", path)


def links_on(page: Any) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.getAttribute('href'))")
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/") or SKIP.search(parts.path):
            continue
        found.append(parts.path)
    return found


def check(page: Any) -> list[str]:
    problems = [f"structure: {p}" for p in page.evaluate(STRUCTURE)]
    if violations := axe_violations(page):
        problems.append(f"axe (desktop):\n{describe(violations)}")
    page.set_viewport_size(PHONE)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")  # relaid out
    if (overflow := horizontal_overflow(page)) > 0:
        problems.append(f"{overflow} px of horizontal scrolling at 375 px: {', '.join(page.evaluate(WIDE))}")
    if violations := axe_violations(page):
        problems.append(f"axe (phone):\n{describe(violations)}")
    page.set_viewport_size(DESKTOP)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    return problems


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_a_role_reaches_is_accessible_and_fits_a_phone(pages, demo, role: str) -> None:
    user = User.objects.get(username=ROLES[role])
    page = pages.open(user)
    queue = starting_points(user)
    seen_shapes: set[str] = set()
    visited: list[str] = []
    failures: dict[str, list[str]] = {}
    while queue and len(visited) < MAX_PAGES:
        path = queue.pop(0)
        key = path if re.fullmatch(r"/requests/\d+/", path) else shape(path)
        if key in seen_shapes:
            continue
        seen_shapes.add(key)
        response = page.goto(path)
        assert response is not None and response.status < 400, f"{role}: {path} answered {response and response.status}"
        visited.append(path)
        if problems := check(page):
            failures[path] = problems
        queue.extend(link for link in links_on(page) if shape(link) not in seen_shapes)

    assert len(visited) >= 5, f"{role} reached only {visited}"
    assert not failures, f"{role} ({len(visited)} pages):\n" + "\n".join(
        f"{path}:\n  " + "\n  ".join(problems) for path, problems in failures.items()
    )


def focus_on(page: Any, name: str, *, limit: int = 60) -> None:
    """Press Tab until the control called `name` has the focus (a keyboard user's way there)."""
    for _ in range(limit):
        # A picker's search box stands for its field: Tom Select names it "id_<field>-ts-control".
        if page.evaluate("""() => { const e = document.activeElement;
            return e?.name || (e?.id || '').replace(/^id_(.*)-ts-control$/, '$1') || e?.textContent?.trim(); }""") == name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {name!r}")


def take_first_suggestion(page: Any, key: str) -> None:
    """A keyboard user's pick: as soon as a suggestion is highlighted, press Enter (take it and stay)
    or Tab (take it and move on)."""
    page.locator(".ts-dropdown:visible .option.active").wait_for()
    page.keyboard.press(key)


def test_a_keyboard_only_rep_files_a_request(pages, rep, customer, product) -> None:
    # Listed before the ones typed for when the picker opens: a suggestion left over from that list
    # would be the one taken.
    Customer.objects.create(name="Aalborg Steel", code="AAL")
    Product.objects.create(sku="ACT-200", name="Actuator 200", unit="pcs")
    page = pages.open(rep)
    page.goto("/requests/new/")

    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")
    focus_on(page, "title")
    page.keyboard.type("300 brackets, typed without a mouse")
    focus_on(page, "customer")
    page.keyboard.type(customer.name[:4])
    take_first_suggestion(page, "Enter")
    focus_on(page, "product")
    page.keyboard.type(product.sku[:3])
    take_first_suggestion(page, "Tab")
    focus_on(page, "quantity")
    page.keyboard.type("300")
    focus_on(page, "requested_date")
    page.keyboard.type("02032031")
    focus_on(page, "submit")  # the "Submit to Operations" button
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/requests/\d+/(#main)?$"))  # the skip link's #main stays on the URL
    req = FeasibilityRequest.objects.get(title="300 brackets, typed without a mouse")
    assert req.status == Status.SUBMITTED and req.customer == customer and req.product == product
    assert req.quantity == 300


def test_a_picker_suggests_only_matches_for_what_is_typed_now(pages, rep, customer) -> None:
    """Between a key and the server's answer, the list shown on focus must not stand in for matches:
    Enter would take its first row, a customer the rep never typed."""
    Customer.objects.create(name="Aalborg Steel", code="AAL")
    Customer.objects.create(name="Baltic Marine", code="BAL")
    page = pages.open(rep)
    page.goto("/requests/new/")
    page.locator("#id_customer-ts-control").focus()
    page.locator(".ts-dropdown:visible .option.active").wait_for()  # the list shown on focus

    page.keyboard.type("Acm")
    seen: list[list[str]] = []
    for _ in range(15):  # while the answer travels, and after
        seen.append(page.eval_on_selector_all(".ts-dropdown:visible .option", "els => els.map(e => e.textContent)"))
        page.wait_for_timeout(100)
    assert all("Acme" in text for shown in seen for text in shown), seen
    assert seen[-1] == ["Acme Industrial"]
