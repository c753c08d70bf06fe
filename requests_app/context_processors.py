"""Navigation per role: each role sees the links to its own work."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from requests_app import roles
from requests_app.selectors import unread_notification_count

# (label, url name, who sees it). Later features add their entries here.
NAV_ITEMS: list[tuple[str, str, object]] = [
    ("My requests", "requests_app:list", roles.is_sales),
    ("New request", "requests_app:create", roles.is_sales),
    ("Triage", "analysis:triage", roles.is_ops_lead),
    ("My department", "analysis:department_queue", roles.is_ops),
    ("All requests", "requests_app:list", lambda u: roles.sees_everything(u) and not roles.is_sales(u)),
    ("Dashboard", "analysis:dashboard", roles.is_manager),
    ("SLA policies", "analysis:sla_policies", roles.is_manager),
]


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = []
    for label, url_name, allowed in NAV_ITEMS:
        if not allowed(user):  # type: ignore[operator]
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue  # the page is not built yet
        items.append({"label": label, "url": url, "active": request.path == url})
    return {
        "nav_items": items,
        "unread_notifications": unread_notification_count(user),
        "user_roles": sorted(roles.user_roles(user)),
    }
