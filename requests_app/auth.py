"""Loading the signed-in user with what every page reads about them, in the one query Django
makes anyway.

Each page used to read, besides the session and the user: the user's profile (time zone), their
groups (roles), and their unread notifications (the navigation's badge) — three more queries on
every page, and the badge once more for each panel rendered with the request. This backend loads
the user with the profile joined and the roles and the unread count as columns of the same SELECT
(five EXISTS on the group membership's index, one COUNT on the partial unread index), and leaves
them where `roles.user_roles`, `selectors.unread_notification_count` and the time-zone middleware
look first.

It replaces Django's ModelBackend in AUTHENTICATION_BACKENDS (authentication is ModelBackend's own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery

from requests_app import roles
from requests_app.models import Notification, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_ROLE_COLUMN = "_s2o_has_role_"
UNREAD_ATTR = "_s2o_unread_notifications"


def user_with_page_facts(user_id: Any) -> User:
    """The user (active or not: `user_can_authenticate` decides) with profile, roles and unread count."""
    model = get_user_model()
    memberships = model.groups.through.objects.filter(user_id=OuterRef("pk"))
    unread = (
        Notification.objects.filter(user_id=OuterRef("pk"), read_at__isnull=True)
        .order_by().values("user_id").annotate(n=Count("pk")).values("n")
    )
    columns = {f"{_ROLE_COLUMN}{role.value}": Exists(memberships.filter(group__name=role.value)) for role in Role}
    user = (
        model._default_manager.select_related("profile")
        .annotate(**columns, **{UNREAD_ATTR: Subquery(unread, output_field=IntegerField())})
        .get(pk=user_id)
    )
    roles.remember_roles(user, {role.value for role in Role if getattr(user, f"{_ROLE_COLUMN}{role.value}")})
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
