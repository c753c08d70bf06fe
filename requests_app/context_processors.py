"""Navigation per role: each role sees the links to its own work (`pages.register_link`)."""

from __future__ import annotations

from django.http import HttpRequest

from requests_app import pages, roles
from requests_app.selectors import unread_notification_count

_MEMO = "_s2o_navigation"


def navigation(request: HttpRequest) -> dict[str, object]:
    """Once per HTTP request: the page's panels render with the same request and reuse it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memo = getattr(request, _MEMO, None)
    if memo is None:
        memo = {
            "nav_items": pages.links_for(user, request.path),
            "unread_notifications": unread_notification_count(user),
            "user_roles": sorted(roles.user_roles(user)),
        }
        setattr(request, _MEMO, memo)
    return memo
