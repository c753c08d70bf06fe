"""/api/v1/ (mounted by s2o/urls.py, namespace `api`)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from integrations.api import views_misc
from integrations.api.views_operations import OperationsActions
from integrations.api.views_requests import RequestViewSet


class RequestsWithOperations(OperationsActions, RequestViewSet):
    # A request's resources: Sales' actions and Operations' assessments and answers under one URL.
    # (No docstring: drf-spectacular would print it as every operation's description.)
    pass


router = SimpleRouter()
router.register("requests", RequestsWithOperations, basename="request")
router.register("customers", views_misc.CustomerViewSet, basename="customer")
router.register("products", views_misc.ProductViewSet, basename="product")
router.register("notifications", views_misc.NotificationViewSet, basename="notification")

app_name = "api"

urlpatterns = [
    path("me/", views_misc.me, name="me"),
    path("dashboard/", views_misc.dashboard, name="dashboard"),
    path("", include(router.urls)),
]
