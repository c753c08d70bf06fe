"""The site's URLs plus one API view, to exercise authentication the way every API view will."""

from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from s2o.urls import urlpatterns as site_urlpatterns


@api_view(["GET"])
def whoami(request: Request) -> Response:
    return Response({"username": request.user.get_username(), "token": getattr(request.auth, "name", None)})


urlpatterns = [path("api/v1/whoami/", whoami), *site_urlpatterns]
