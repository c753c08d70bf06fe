"""Managers' SLA screens (included by analysis/urls.py under the `analysis` namespace)."""

from django.urls import path

from analysis import views_sla

urlpatterns: list = [
    path("sla/", views_sla.sla_policies, name="sla_policies"),
    path("sla/policies/<int:pk>/", views_sla.sla_policy_edit, name="sla_policy_edit"),
    path("sla/calendars/new/", views_sla.sla_calendar_edit, name="sla_calendar_create"),
    path("sla/calendars/<int:pk>/", views_sla.sla_calendar_edit, name="sla_calendar_edit"),
    path("sla/calendars/<int:pk>/closures/", views_sla.sla_closure_add, name="sla_closure_add"),
    path("sla/calendars/<int:pk>/closures/<int:closure_pk>/delete/", views_sla.sla_closure_delete, name="sla_closure_delete"),
]
