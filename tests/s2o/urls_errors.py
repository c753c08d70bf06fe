"""The project's URLs plus views that fail on purpose, for the 403/500 page tests."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from s2o.urls import handler403, handler404, handler500  # noqa: F401
from s2o.urls import urlpatterns as project_urlpatterns


def forbidden(request):
    raise PermissionDenied("test")


def broken(request):
    raise RuntimeError("a bug, on purpose")


urlpatterns = [
    path("test-only/forbidden/", forbidden),
    path("test-only/broken/", broken),
    *project_urlpatterns,
]
