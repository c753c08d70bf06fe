"""Loading the signed-in user with what every page reads about them, in the one query Django
makes anyway.

Each page used to read, besides the session and the user: the user's profile (time zone), their
groups (roles), and their unread notifications (the navigation's badge) — three more queries on
every page, and the badge once more for each panel rendered with the request. This backend loads
the user with the profile joined and the roles and the unread count as columns of the same SELECT
(one sum over the group memberships, one COUNT on the partial unread index), and leaves
them where `roles.user_roles`, `selectors.unread_notification_count` and the time-zone middleware
look first.

It replaces Django's ModelBackend in AUTHENTICATION_BACKENDS (authentication is ModelBackend's own).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL

from requests_app import roles
from requests_app.models import Notification, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_ROLES_ATTR = "_s2o_role_bits"
UNREAD_ATTR = "_s2o_unread_notifications"
_ROLE_BITS = {role.value: 1 << i for i, role in enumerate(Role)}


@functools.cache
def _facts_sql() -> tuple[str, str]:
    """The two correlated subqueries, written once per process from the models' tables.

    They were ORM `Exists` and `Subquery` expressions, one per role: Django compiled those six
    subqueries again on every page, ~4 of the ~5.4 ms this query cost (a picker's whole answer took
    13 ms, bench/profile_page.py). As SQL they cost what the rest of the query costs to compile.
    The roles come as one number, a bit per role (a user is in a group at most once, so the sum
    is the union)."""
    quote = connection.ops.quote_name
    model = get_user_model()
    user = f"{quote(model._meta.db_table)}.{quote(model._meta.pk.column)}"
    membership = model.groups.through._meta
    group = Group._meta
    cases = " ".join(f"WHEN %s THEN {bit}" for bit in _ROLE_BITS.values())
    role_bits = (
        f"(SELECT COALESCE(SUM(CASE g.{quote('name')} {cases} ELSE 0 END), 0) "  # nosec B608: tables and columns of the models; role names are parameters
        f"FROM {quote(membership.db_table)} m INNER JOIN {quote(group.db_table)} g ON g.{quote('id')} = m.{quote('group_id')} "
        f"WHERE m.{quote('user_id')} = {user})"
    )
    notification = Notification._meta
    unread = (
        f"(SELECT COUNT(*) FROM {quote(notification.db_table)} n "  # nosec B608: the model's table and columns
        f"WHERE n.{quote(notification.get_field('user').column)} = {user} "
        f"AND n.{quote(notification.get_field('read_at').column)} IS NULL)"
    )
    return role_bits, unread


def user_with_page_facts(user_id: Any) -> User:
    """The user (active or not: `user_can_authenticate` decides) with profile, roles and unread count."""
    role_bits, unread = _facts_sql()
    user = (
        get_user_model()._default_manager.select_related("profile")
        .annotate(**{
            # nosec B611 below: _facts_sql() composes the models' own tables and columns; values are parameters.
            _ROLES_ATTR: RawSQL(role_bits, list(_ROLE_BITS), output_field=IntegerField()),  # nosec B611
            UNREAD_ATTR: RawSQL(unread, [], output_field=IntegerField()),  # nosec B611
        })
        .get(pk=user_id)
    )
    bits = getattr(user, _ROLES_ATTR) or 0
    roles.remember_roles(user, {name for name, bit in _ROLE_BITS.items() if bits & bit})
    setattr(user, UNREAD_ATTR, getattr(user, UNREAD_ATTR) or 0)
    return user


class PageUserBackend(ModelBackend):
    """Django's ModelBackend (passwords, is_active) whose get_user reads the page's facts too."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = user_with_page_facts(user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
