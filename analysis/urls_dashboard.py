from django.urls import path

from analysis import views_dashboard

urlpatterns: list = [
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
    path("dashboard.json", views_dashboard.dashboard_json, name="dashboard_json"),
]
