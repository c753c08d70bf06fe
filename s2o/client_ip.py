"""The client's address for the login lock-out, taken from a configured number of trusted proxies.

Behind the TLS proxy of a deployment every request comes from the proxy's address, so keying the
lock-out on REMOTE_ADDR locks a username out for everyone. Each proxy appends the address it saw to
X-Forwarded-For; the entries a client sends itself come first. With S2O_TRUSTED_PROXIES=N, the N-th
entry from the right is the address our outermost proxy saw, which the client cannot forge.
django-ipware's proxy_count wants exactly N + 1 entries and falls back to REMOTE_ADDR (the proxy)
when a client prepends any, which would bring the shared lock back: hence this small function.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    hops = settings.S2O_TRUSTED_PROXIES
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:  # not through our proxies (or they do not append): the sender itself
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
