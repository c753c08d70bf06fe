"""Fetch with permission, for the API: the same scoping as the pages (404 for what the caller may
not see), by a request's reference or, for a draft that has none yet, its id."""

from __future__ import annotations

import re

from django.http import Http404

from requests_app.models import FeasibilityRequest
from requests_app.roles import Actor
from requests_app.selectors import get_request_by_reference_for, get_request_for

ID = re.compile(r"[0-9]{1,9}")


def request_for(user: Actor, ref: str) -> FeasibilityRequest:
    """`ref` is a reference (S2O-2026-00042) or an id (drafts have no reference yet)."""
    if ID.fullmatch(ref):
        return get_request_for(user, int(ref))
    if len(ref) > 20:
        raise Http404("No such request.")
    return get_request_by_reference_for(user, ref)
