"""The rulebook: who may do what, as named predicates (the `rules` package).

Every service takes the acting user and calls `require(user, "<perm>", obj)` before it changes
anything; views, the API, commands, tasks and e-mail replies call the services and translate
`NotAllowed` (a `PermissionDenied`, so an uncaught one is a 403). Reading is scoped separately:
`selectors.get_request_for` answers 404 for what a user may not see, so ids never leak.

Templates ask the same predicates (`{% load rules %}{% has_perm "s2o.withdraw_request" user req as can %}`),
so a page never offers an action its service would refuse.

Operations' objects (assessments, answers) are read duck-typed (`department_id`, `request`):
this module belongs to `requests_app` and never imports `analysis`.
"""

from __future__ import annotations

from typing import Any

import rules
from django.core.exceptions import PermissionDenied

from requests_app import roles


class NotAllowed(PermissionDenied):
    """The acting user may not do this (to this object). The message is shown to them as is."""


# ---------------------------------------------------------------------------------------------
# Role predicates (whole-site roles, no object)

is_sales = rules.predicate(roles.is_sales, name="is_sales")
is_sales_manager = rules.predicate(roles.is_sales_manager, name="is_sales_manager")
is_ops = rules.predicate(roles.is_ops, name="is_ops")
is_ops_lead = rules.predicate(roles.is_ops_lead, name="is_ops_lead")
is_manager = rules.predicate(roles.is_manager, name="is_manager")


# ---------------------------------------------------------------------------------------------
# Permissions. Names follow "s2o.<verb>_<object>"; the message is what a refused user reads.

MESSAGES: dict[str, str] = {
    "s2o.manage_sla": "SLA policies and calendars are edited by managers.",
    "s2o.view_dashboard": "The dashboard is for managers.",
    "s2o.manage_exchange_rates": "Exchange rates are kept by managers.",
}

rules.add_perm("s2o.manage_sla", is_manager)
rules.add_perm("s2o.view_dashboard", is_manager)
rules.add_perm("s2o.manage_exchange_rates", is_manager)


def allowed(user: Any, perm: str, obj: Any = None) -> bool:
    """True when the rulebook lets `user` do `perm` (to `obj`)."""
    return bool(rules.has_perm(perm, user, obj))


def require(user: Any, perm: str, obj: Any = None, message: str | None = None) -> None:
    """Refuse with `NotAllowed` unless the rulebook lets `user` do `perm` (to `obj`)."""
    if not allowed(user, perm, obj):
        raise NotAllowed(message or MESSAGES.get(perm, "You may not do this."))
