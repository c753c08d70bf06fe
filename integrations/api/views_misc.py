"""/api/v1/: the caller (me), customers and products, notifications, the managers' dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from analysis import metrics
from analysis.views_dashboard import DashboardFilterForm, default_work_calendar, filter_choices
from integrations.api import serializers as s
from integrations.api.schema import READ_ERRORS, WRITE_ERRORS
from integrations.authentication import caller
from integrations.models import ApiToken
from requests_app import notifications, permissions, roles, selectors
from requests_app import services as request_services
from requests_app.models import Customer, Notification, Product

if TYPE_CHECKING:
    from integrations.authentication import SignedInApiRequest


@extend_schema(summary="Who the token or session belongs to", responses={200: s.MeSerializer, **READ_ERRORS})
@api_view(["GET"])
def me(request: Request) -> Response:
    user = caller(request)
    return Response(s.MeSerializer({
        "username": user.get_username(), "name": user.get_full_name() or user.get_username(),
        "roles": sorted(roles.user_roles(user)), "departments": list(user.departments.values_list("code", flat=True)),
        "sales_teams": list(user.sales_teams.values_list("name", flat=True)),
        "token": request.auth.name if isinstance(request.auth, ApiToken) else None,
    }).data)


class MasterDataViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Read by anyone with a role (`s2o.view_master_data`); added as the rulebook says."""

    read_perm = "s2o.view_master_data"
    lookup_value_regex = "[^/]+"  # a malformed id reaches get_object: a JSON 404, not the site's HTML page
    search_fields: tuple[str, ...] = ()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method == "GET":
            permissions.require(request.user, self.read_perm)

    def get_queryset(self) -> QuerySet:
        qs = super().get_queryset()
        q = self.request.query_params.get("q", "")
        if len(q) > 200 or "\x00" in q:
            raise ValidationError({"q": ["Search for at most 200 characters of text."]})
        if q.strip():
            cond = Q()
            for name in self.search_fields:
                cond |= Q(**{f"{name}__icontains": q.strip()})
            qs = qs.filter(cond)
        return qs

    def get_object(self) -> Model:
        pk = str(self.kwargs["pk"])
        found = super().get_queryset().filter(pk=int(pk)).first() if pk.isdecimal() and len(pk) < 10 else None
        if found is None:
            raise Http404
        return found


Q_PARAM = OpenApiParameter("q", OpenApiTypes.STR, description="Part of the name (or code).")


@extend_schema_view(
    list=extend_schema(summary="Customers", parameters=[Q_PARAM], responses={200: s.CustomerSerializer(many=True),
                                                                               **READ_ERRORS}),
    retrieve=extend_schema(summary="One customer", responses={200: s.CustomerSerializer, **READ_ERRORS}),
    create=extend_schema(summary="Add a customer", request=s.CustomerCreateSerializer,
                         responses={201: s.CustomerSerializer, **WRITE_ERRORS}),
)
class CustomerViewSet(mixins.CreateModelMixin, MasterDataViewSet):
    queryset = Customer.objects.order_by("name", "id")
    serializer_class = s.CustomerSerializer
    search_fields = ("name", "code")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.CustomerCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = request_services.customer_create(actor=caller(request), **data.validated_data)
        return Response(s.CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Catalogue parts", parameters=[Q_PARAM],
                       responses={200: s.ProductSerializer(many=True), **READ_ERRORS}),
    retrieve=extend_schema(summary="One catalogue part", responses={200: s.ProductSerializer, **READ_ERRORS}),
    create=extend_schema(summary="Add a catalogue part", request=s.ProductCreateSerializer,
                         responses={201: s.ProductSerializer, **WRITE_ERRORS}),
)
class ProductViewSet(mixins.CreateModelMixin, MasterDataViewSet):
    queryset = Product.objects.order_by("sku", "id")
    serializer_class = s.ProductSerializer
    search_fields = ("sku", "name")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ProductCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = request_services.product_create(actor=caller(request), **data.validated_data)
        return Response(s.ProductSerializer(product).data, status=status.HTTP_201_CREATED)


UNREAD = OpenApiParameter("unread", OpenApiTypes.BOOL, description="true: only unread ones.")
MARKED = inline_serializer("Marked", fields={"marked": serializers.IntegerField()})


@extend_schema_view(
    list=extend_schema(summary="The caller's notifications, newest first", parameters=[UNREAD],
                       responses={200: s.NotificationSerializer(many=True), **READ_ERRORS}),
)
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.NotificationSerializer
    lookup_value_regex = "[^/]+"
    request: SignedInApiRequest

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        qs = selectors.notifications_for(self.request.user)
        unread = self.request.query_params.get("unread")
        if unread not in (None, "true", "false"):
            raise ValidationError({"unread": ["Give true or false."]})
        return qs.filter(read_at__isnull=True) if unread == "true" else qs

    @extend_schema(summary="Mark one notification read", request=None,
                   responses={200: s.NotificationSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def read(self, request: SignedInApiRequest, pk: str) -> Response:
        notification = self._own(pk)
        notifications.mark_read(request.user, [notification.pk])
        notification.refresh_from_db()
        return Response(s.NotificationSerializer(notification).data)

    @extend_schema(summary="Mark every notification read", request=None, responses={200: MARKED, **WRITE_ERRORS})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: SignedInApiRequest) -> Response:
        return Response({"marked": notifications.mark_read(request.user, None, now=timezone.now())})

    def _own(self, pk: str) -> Notification:
        if not pk.isdecimal() or len(pk) > 9:
            raise Http404
        notification = selectors.notifications_for(self.request.user).filter(pk=int(pk)).first()
        if notification is None:
            raise Http404
        return notification


def _dashboard_params() -> list[OpenApiParameter]:
    return [
        OpenApiParameter("date_from", OpenApiTypes.DATE, description="Submitted from (default: 90 days before date_to)."),
        OpenApiParameter("date_to", OpenApiTypes.DATE, description="Submitted up to and including (default: today)."),
        *[OpenApiParameter(name, OpenApiTypes.INT, description=f"Only this {name.replace('_', ' ')} (id).")
          for name in ("department", "customer", "sales_team", "rep")],
        OpenApiParameter("priority", OpenApiTypes.STR, enum=["low", "normal", "high", "urgent"]),
    ]


@extend_schema(summary="The managers' dashboard figures, filtered like the page", parameters=_dashboard_params(),
               responses={200: s.DashboardSerializer, **READ_ERRORS})
@api_view(["GET"])
def dashboard(request: Request) -> Response:
    permissions.require(request.user, "s2o.view_dashboard")
    choices = filter_choices()
    form = DashboardFilterForm(request.query_params or None, choices=choices, today=timezone.localdate())
    if form.is_bound and not form.is_valid():
        errors = {("non_field_errors" if k == "__all__" else k): [str(e) for e in v] for k, v in form.errors.items()}
        raise ValidationError(errors)
    board = metrics.dashboard(form.dashboard_filter(), now=timezone.now(), work_calendar=default_work_calendar(),
                              known_departments=choices["department"])
    return Response(board.as_json())
