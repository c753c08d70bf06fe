"""What other apps add to this app's pages: panels on the request page, links in the navigation,
and the page each role lands on.

The request page and the navigation belong to `requests_app`, but part of what they show is
Operations' work (the published answer and Sales' decisions on it, the departments' assessments,
the triage and department queues, the dashboard), which lives in `analysis`. The apps depend one
way (DESIGN.md "Architecture"): `requests_app` never imports `analysis`, renders none of its
templates and names none of its URLs. So `analysis` registers its panels, links and landing pages
here in its `AppConfig.ready()`, and the pages call what was registered.

Why a registry rather than composing the request page in `analysis`: the page, its URL and Sales'
own actions (edit, comment, reply, withdraw, record an outcome) stay with the app that owns the
request, each panel is rendered by the app that owns its data and template, and neither needs to
know the other's internals. Registering twice under the same name replaces (tests may run
`ready()` again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.safestring import SafeString

from requests_app.models import FeasibilityRequest
from requests_app.roles import SignedInRequest

# A panel renders its HTML for this HTTP request and request row ("" to show nothing).
Panel = Callable[[SignedInRequest, FeasibilityRequest], SafeString | str]
Allowed = Callable[[Any], bool]


@dataclass(frozen=True)
class _Entry:
    name: str
    order: int
    value: Any


_panels: dict[str, _Entry] = {}
_links: dict[str, _Entry] = {}
_landings: dict[str, _Entry] = {}
_filing_aids: dict[str, _Entry] = {}


def _sorted(registry: dict[str, _Entry]) -> list[_Entry]:
    return sorted(registry.values(), key=lambda entry: (entry.order, entry.name))


def register_panel(name: str, panel: Panel, *, order: int) -> None:
    """Add a panel to the request page's main column (lower `order` first, before the request's own card)."""
    _panels[name] = _Entry(name, order, panel)


def register_link(label: str, url_name: str, allowed: Allowed, *, order: int) -> None:
    """Add a navigation link, shown to the users `allowed(user)` is true for."""
    _links[label] = _Entry(label, order, (url_name, allowed))


def register_landing(url_name: str, allowed: Allowed, *, order: int) -> None:
    """Where `home` sends a user: the first landing (lowest `order`) `allowed(user)` is true for."""
    _landings[url_name] = _Entry(url_name, order, allowed)


def register_filing_aid(name: str, url_name: str, allowed: Allowed, *, order: int) -> None:
    """Add a live aid beside the filing form: the form's fields are sent to `url_name` (GET) as the
    rep types, and the HTML it returns is shown in the aid's place (requests.js)."""
    _filing_aids[name] = _Entry(name, order, (url_name, allowed))


def panels_for(request: SignedInRequest, req: FeasibilityRequest) -> list[str]:
    """Every registered panel's HTML for this request, in order, empty ones left out."""
    rendered = (entry.value(request, req) for entry in _sorted(_panels))
    return [html for html in rendered if html]


def links_for(user: Any, path: str) -> list[dict[str, object]]:
    items = []
    for entry in _sorted(_links):
        url_name, allowed = entry.value
        if allowed(user):
            url = reverse(url_name)
            items.append({"label": entry.name, "url": url, "active": path == url})
    return items


def landing_for(user: Any) -> str | None:
    """The URL of the user's own work, or None (no role yet)."""
    return next((reverse(entry.name) for entry in _sorted(_landings) if entry.value(user)), None)


def filing_aids_for(user: Any) -> list[dict[str, str]]:
    """The filing form's live aids this user may use: their name and URL."""
    return [
        {"name": entry.name, "url": reverse(entry.value[0])}
        for entry in _sorted(_filing_aids)
        if entry.value[1](user)
    ]
