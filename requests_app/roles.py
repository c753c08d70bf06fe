"""Roles are Django groups (DESIGN.md); these helpers read them once per request and cache."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeAlias

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.db.models import QuerySet
from django.http import HttpRequest

from requests_app.models import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A signed-in person, as the services and selectors take them: the doors (`login_required` views,
# the API's IsAuthenticated, commands and tasks that load a user) never pass anyone else.
Actor: TypeAlias = "User"
# `request.user` before a door has checked it; the role helpers and predicates take either.
AnyUser: TypeAlias = "User | AnonymousUser"


class SignedInRequest(HttpRequest):
    """The request a `login_required` view receives: its user is a signed-in person (for types)."""

    user: User


_CACHE_ATTR = "_s2o_roles"


def user_roles(user: AnyUser | None) -> frozenset[str]:
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def remember_roles(user: User, names: Iterable[str]) -> None:
    """Set the user's roles when they were read with the user (`auth.PageUserBackend`)."""
    setattr(user, _CACHE_ATTR, frozenset(names))


def has_role(user: AnyUser | None, *roles: Role | str) -> bool:
    return bool(user_roles(user) & {str(r) for r in roles})


def is_sales(user: AnyUser | None) -> bool:
    return has_role(user, Role.SALES_REP, Role.SALES_MANAGER)


def is_sales_manager(user: AnyUser | None) -> bool:
    return has_role(user, Role.SALES_MANAGER)


def is_ops(user: AnyUser | None) -> bool:
    return has_role(user, Role.OPS_MEMBER, Role.OPS_LEAD)


def is_ops_lead(user: AnyUser | None) -> bool:
    return has_role(user, Role.OPS_LEAD)


def is_manager(user: AnyUser | None) -> bool:
    return bool(getattr(user, "is_superuser", False)) or has_role(user, Role.MANAGER)


def sees_everything(user: AnyUser | None) -> bool:
    """Operations leads and managers read every submitted request."""
    return is_manager(user) or is_ops_lead(user)


def members(role: Role | str) -> QuerySet:
    """The active people who hold `role` (one definition: notifications, reminders, digests)."""
    return get_user_model().objects.filter(groups__name=str(role), is_active=True).distinct()


def ops_leads() -> QuerySet:
    return members(Role.OPS_LEAD)


def ensure_role_groups() -> dict[str, Group]:
    return {role.value: Group.objects.get_or_create(name=role.value)[0] for role in Role}
