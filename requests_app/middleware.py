from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from requests_app.roles import Actor

_LAST_SEEN = "s2o_last_seen"


class UserTimezoneMiddleware:
    """Shows times in the user's zone and ends sessions idle for longer than the idle limit
    (the absolute limit is SESSION_COOKIE_AGE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(_LAST_SEEN)
            if last_seen is not None and now - float(last_seen) > settings.S2O_SESSION_IDLE_SECONDS:
                logout(request)
                return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.path}")
            # Write at most once a minute: a session save per request costs a query.
            if last_seen is None or now - float(last_seen) > 60:
                request.session[_LAST_SEEN] = now
            zone = user_time_zone(user)
            if zone:
                timezone.activate(zone)
            else:
                timezone.deactivate()
        return self.get_response(request)


def session_expires_at_log_in(sender: object, request: HttpRequest, user: Actor, **kwargs: object) -> None:
    """A session ends SESSION_COOKIE_AGE after log-in, however busy: with a relative age, every
    save (the idle stamp above writes once a minute) moved the end forward and a busy session never
    ended. An absolute expiry date is kept as it is by every later save."""
    if hasattr(request, "session"):
        request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))


def user_time_zone(user: Actor) -> zoneinfo.ZoneInfo | None:
    """The user's display zone, or None for the site's TIME_ZONE."""
    from requests_app.models import Profile

    try:
        name = user.profile.time_zone
    except Profile.DoesNotExist:
        return None
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
