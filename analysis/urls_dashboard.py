from django.urls import path

from analysis import views_dashboard, views_rates

urlpatterns: list = [
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
    path("dashboard.json", views_dashboard.dashboard_json, name="dashboard_json"),
    path("dashboard/rates/", views_rates.exchange_rates_page, name="exchange_rates"),
]
