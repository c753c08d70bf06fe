"""Roles are Django groups (DESIGN.md); these helpers read them once per request and cache."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.db.models import QuerySet

from requests_app.models import Role

_CACHE_ATTR = "_s2o_roles"


def user_roles(user) -> frozenset[str]:
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def remember_roles(user, names) -> None:
    """Set the user's roles when they were read with the user (`auth.PageUserBackend`)."""
    setattr(user, _CACHE_ATTR, frozenset(names))


def has_role(user, *roles: Role | str) -> bool:
    return bool(user_roles(user) & {str(r) for r in roles})


def is_sales(user) -> bool:
    return has_role(user, Role.SALES_REP, Role.SALES_MANAGER)


def is_sales_manager(user) -> bool:
    return has_role(user, Role.SALES_MANAGER)


def is_ops(user) -> bool:
    return has_role(user, Role.OPS_MEMBER, Role.OPS_LEAD)


def is_ops_lead(user) -> bool:
    return has_role(user, Role.OPS_LEAD)


def is_manager(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or has_role(user, Role.MANAGER)


def sees_everything(user) -> bool:
    """Operations leads and managers read every submitted request."""
    return is_manager(user) or is_ops_lead(user)


def members(role: Role | str) -> QuerySet:
    """The active people who hold `role` (one definition: notifications, reminders, digests)."""
    return get_user_model().objects.filter(groups__name=str(role), is_active=True).distinct()


def ops_leads() -> QuerySet:
    return members(Role.OPS_LEAD)


def ensure_role_groups() -> dict[str, Group]:
    return {role.value: Group.objects.get_or_create(name=role.value)[0] for role in Role}
