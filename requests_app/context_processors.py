"""Navigation per role: each role sees the links to its own work (`pages.register_link`)."""

from __future__ import annotations

from django.http import HttpRequest

from requests_app import pages, roles
from requests_app.selectors import unread_notification_count


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_items": pages.links_for(user, request.path),
        "unread_notifications": unread_notification_count(user),
        "user_roles": sorted(roles.user_roles(user)),
    }
