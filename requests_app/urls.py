from django.urls import path  # noqa: F401

from requests_app import views  # noqa: F401

app_name = "requests_app"

urlpatterns: list = []
