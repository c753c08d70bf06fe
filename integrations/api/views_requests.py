"""/api/v1/requests/: Sales' requests and everything done to them from Sales' side.

Each action: parse with a serializer, fetch with permission (404 out of scope), call the same service
as the page, answer with the request as it now is. The services ask the rulebook themselves; a
refusal is their `NotAllowed` (403, errors.exception_handler)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from analysis import decisions
from integrations import services as integration_services
from integrations.api import serializers as s
from integrations.api.errors import Unprocessable, service_errors
from integrations.api.lookups import request_for
from integrations.api.schema import ERRORS, READ_ERRORS, WRITE_ERRORS
from requests_app import permissions, selectors
from requests_app import services as request_services
from requests_app.filters import RequestFilter
from requests_app.models import FeasibilityRequest, Outcome
from requests_app.selectors import INTERNAL_ACTOR_KINDS

if TYPE_CHECKING:
    from integrations.authentication import SignedInApiRequest

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces

REF = OpenApiParameter("reference", OpenApiTypes.STR, OpenApiParameter.PATH,
                       description="The request's reference (S2O-2026-00042), or its id for a draft.")
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Any unique string (e.g. a UUID) per request you mean to file: a retry with the same key and body "
                "returns the request filed the first time (200) instead of filing twice; the same key with another "
                "body is refused (422).",
)


def _request_response(req: FeasibilityRequest, request: Request, code: int = status.HTTP_200_OK) -> Response:
    req = FeasibilityRequest.objects.select_related("customer", "product", "requested_by", "sales_team").get(pk=req.pk)
    return Response(s.RequestSerializer(req, context={"request": request}).data, status=code)


@extend_schema_view(
    list=extend_schema(summary="Requests the caller may see, filtered like the requests page",
                       responses={200: s.RequestSerializer(many=True), **READ_ERRORS}),
    retrieve=extend_schema(summary="One request", parameters=[REF], responses={200: s.RequestSerializer, **READ_ERRORS}),
)
class RequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.RequestSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = RequestFilter
    lookup_field = "reference"
    lookup_value_regex = "[^/]+"
    request: SignedInApiRequest

    def get_queryset(self) -> QuerySet[FeasibilityRequest]:
        if getattr(self, "swagger_fake_view", False):
            return FeasibilityRequest.objects.none()
        qs = selectors.request_list(user=self.request.user)
        # The page's default order (newest first) unless `sort` asks for another.
        return qs if "sort" in self.request.query_params else qs.order_by("-submitted_at", "-id")

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # The page's form sends every field, empty ones included; an API call names only the filters it
        # means, so an empty one is a mistake worth saying (e.g. a date the client failed to format).
        empty = sorted(name for name in RequestFilter.base_filters if name in self.request.query_params
                       and not all(self.request.query_params.getlist(name)))
        if empty:
            raise ValidationError({name: ["Give a value, or leave the parameter out."] for name in empty})
        return super().filter_queryset(queryset)

    def get_object(self) -> FeasibilityRequest:
        return request_for(self.request.user, self.kwargs["reference"])

    # -----------------------------------------------------------------------------------------
    # File

    @extend_schema(
        summary="File a request (submitted, or a draft with submit=false)",
        parameters=[IDEMPOTENCY], request=s.RequestCreateSerializer,
        responses={201: s.RequestSerializer, 200: OpenApiResponse(s.RequestSerializer, "A retry: the request filed the "
                                                                  "first time with this Idempotency-Key."),
                   422: ERRORS[422], **WRITE_ERRORS},
    )
    def create(self, request: SignedInApiRequest) -> Response:
        serializer = s.RequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        submit = data.pop("submit")
        key = request.headers.get("Idempotency-Key")
        if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
            raise ValidationError({"Idempotency-Key": ["Send 1 to 255 printable ASCII characters without spaces."]})
        fingerprint = hashlib.sha256(json.dumps(request.data, sort_keys=True, default=str).encode()).hexdigest()
        try:
            with service_errors(field="customer"):
                filed = integration_services.request_file_once(
                    actor=request.user, key=key, fingerprint=fingerprint, data=data, submit=submit,
                )
        except integration_services.IdempotencyKeyReused as exc:
            raise Unprocessable(str(exc), code="idempotency_key_reused") from exc
        response = _request_response(filed.request, request, status.HTTP_201_CREATED if filed.created else status.HTTP_200_OK)
        if not filed.created:
            response["Idempotent-Replayed"] = "true"
        return response

    # -----------------------------------------------------------------------------------------
    # Timeline and conversation

    @extend_schema(summary="The request's timeline", parameters=[REF],
                   responses={200: s.EventSerializer(many=True), **READ_ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def events(self, request: Request, reference: str) -> Response:
        req = self.get_object()
        internals = permissions.allowed(request.user, "s2o.read_internals", req)
        events = list(req.events.select_related("actor"))
        rows = [{"kind": e.kind, "from_status": e.from_status, "to_status": e.to_status, "message": e.message, "at": e.at,
                 "actor": None if e.actor is None or (e.kind in INTERNAL_ACTOR_KINDS and not internals) else e.actor}
                for e in events]
        return Response(s.EventSerializer(rows, many=True).data)

    @extend_schema(methods=["get"], summary="Comments, questions and replies", parameters=[REF],
                   responses={200: s.CommentSerializer(many=True), **READ_ERRORS})
    @extend_schema(methods=["post"], summary="Add a comment", parameters=[REF], request=s.BodySerializer,
                   responses={201: s.CommentSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def comments(self, request: SignedInApiRequest, reference: str) -> Response:
        req = self.get_object()
        if request.method == "GET":
            return Response(s.CommentSerializer(req.comments.select_related("author"), many=True).data)
        body = _valid(s.BodySerializer, request)["body"]
        with service_errors(field="body"):
            comment = request_services.comment_add(req=req, actor=request.user, body=body)
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    # -----------------------------------------------------------------------------------------
    # Sales' actions

    @extend_schema(summary="Submit a draft", parameters=[REF], request=None,
                   responses={200: s.RequestSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[])
    def submit(self, request: SignedInApiRequest, reference: str) -> Response:
        req = self.get_object()
        request_services.request_submit(request_id=req.pk, actor=request.user)
        return _request_response(req, request)

    @extend_schema(summary="Answer Operations' clarification question", parameters=[REF], request=s.BodySerializer,
                   responses={200: s.RequestSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[])
    def reply(self, request: SignedInApiRequest, reference: str) -> Response:
        req = self.get_object()
        body = _valid(s.BodySerializer, request)["body"]
        with service_errors(field="body"):
            request_services.clarification_answer(request_id=req.pk, actor=request.user, body=body)
        return _request_response(req, request)

    @extend_schema(summary="Withdraw the request", parameters=[REF], request=s.ReasonSerializer,
                   responses={200: s.RequestSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[])
    def withdraw(self, request: SignedInApiRequest, reference: str) -> Response:
        req = self.get_object()
        reason = _valid(s.ReasonSerializer, request)["reason"]
        with service_errors(field="reason"):
            request_services.request_withdraw(request_id=req.pk, actor=request.user, reason=reason)
        return _request_response(req, request)

    @extend_schema(summary="Record the outcome (lost, evaporated)", parameters=[REF], request=s.OutcomeSerializer,
                   responses={200: s.RequestSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[])
    def outcome(self, request: SignedInApiRequest, reference: str) -> Response:
        req = self.get_object()
        data = _valid(s.OutcomeSerializer, request)
        with service_errors(field="reason"):
            request_services.request_close(request_id=req.pk, actor=request.user, outcome=Outcome(data["outcome"]),
                                           reason=data["reason"])
        return _request_response(req, request)

    @extend_schema(summary="Decide on the answer: accept it (a yes), decline it, or ask for a revision",
                   parameters=[REF], request=s.DecisionSerializer, responses={200: s.RequestSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[])
    def decision(self, request: SignedInApiRequest, reference: str) -> Response:
        req = self.get_object()
        data = _valid(s.DecisionSerializer, request)
        service = {"accept": decisions.answer_accept, "decline": decisions.answer_decline,
                   "revise": decisions.revision_request}[data["action"]]
        with service_errors(field="reason"):
            service(request_id=req.pk, actor=request.user, reason=data["reason"])
        return _request_response(req, request)

    @extend_schema(summary="Accept one alternative of the current answer", parameters=[REF],
                   request=s.AcceptAlternativeSerializer, responses={200: s.RequestSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="accept-alternative", filter_backends=[])
    def accept_alternative(self, request: SignedInApiRequest, reference: str) -> Response:
        req = self.get_object()
        data = _valid(s.AcceptAlternativeSerializer, request)
        permissions.require(request.user, "s2o.accept_alternative", req)  # as the page: who, before which
        if not req.answers.filter(alternatives__pk=data["alternative"]).exists():
            raise ValidationError({"alternative": ["This request's answers have no alternative with that id."]})
        with service_errors(field="reason"):
            decisions.alternative_accept(alternative_id=data["alternative"], actor=request.user, reason=data["reason"])
        return _request_response(req, request)


def _valid(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
