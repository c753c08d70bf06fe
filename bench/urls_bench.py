"""The project's URLs plus a one-query view: the ceiling a Django page can reach on this machine."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from requests_app.models import FeasibilityRequest
from s2o.urls import handler400, handler403, handler404, handler500  # noqa: F401
from s2o.urls import urlpatterns as project_urlpatterns


def ceiling(request: HttpRequest, pk: int) -> HttpResponse:
    title = FeasibilityRequest.objects.filter(pk=pk).values_list("title", flat=True).first()
    return HttpResponse(title or "", content_type="text/plain")


urlpatterns = [path("bench/ceiling/<int:pk>/", ceiling), *project_urlpatterns]
