"""Operations' own pages (the namespace `analysis` is set in analysis/urls.py)."""

from django.urls import path

from analysis import views, views_learning

urlpatterns = [
    path("triage/", views.triage, name="triage"),
    path("triage/acknowledge/", views.triage_acknowledge, name="triage_acknowledge"),
    path("precedents/", views_learning.precedents_lookup, name="precedents"),
    path("forecast/", views_learning.forecast_lookup, name="forecast"),
    path("improvements/", views_learning.improvements_page, name="improvements"),
    path("improvements/new/", views_learning.improvement_new, name="improvement_new"),
    path("improvements/<int:pk>/", views_learning.improvement_detail, name="improvement_detail"),
    path("improvements/<int:pk>/move/", views_learning.improvement_move, name="improvement_move"),
    path("department/", views.department_queue, name="department_queue"),
    path("requests/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("requests/<int:pk>/route/", views.route, name="route"),
    path("requests/<int:pk>/answer-by/", views.extend_answer_by, name="extend_answer_by"),
    path("requests/<int:pk>/assessments/<slug:code>/", views.assessment_edit, name="assessment_edit"),
    path("requests/<int:pk>/answer/", views.answer_compose, name="answer_compose"),
    path("requests/<int:pk>/clarification/", views.clarification_ask, name="clarification_ask"),
]
