"""Sales' decisions on an answer, under the request's URL (mounted at `requests/` by s2o/urls.py)."""

from django.urls import path

from analysis import views_decisions

app_name = "decisions"

urlpatterns = [
    path("<int:pk>/decide/<slug:action>/", views_decisions.decide, name="decide"),
    path("<int:pk>/alternatives/<int:alternative_pk>/accept/", views_decisions.alternative_accept, name="accept_alternative"),
]
