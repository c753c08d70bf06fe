"""/api/v1/requests/<reference>/assessments/ and …/answers/: Operations' work on a request.

Sales reads each department's verdict, what is feasible and when, and the published answers with
their alternatives; Operations and managers (`s2o.read_internals`) also read notes, cost impacts,
assessors and due times. Writing goes through the same services as the assessment and answer
pages, with the same optimistic lock (`version`, 409 when stale)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from analysis import selectors as ops_selectors
from analysis import services as ops_services
from integrations.api import serializers as s
from integrations.api.errors import service_errors
from integrations.api.schema import READ_ERRORS, WRITE_ERRORS
from integrations.api.views_requests import REF, _valid
from requests_app import permissions

if TYPE_CHECKING:
    from rest_framework.viewsets import GenericViewSet as _ViewSetBase  # mixed into RequestViewSet only

    from analysis.models import Assessment
    from integrations.authentication import SignedInApiRequest
    from requests_app.models import FeasibilityRequest
else:
    _ViewSetBase = object

DEPARTMENT = OpenApiParameter("department", OpenApiTypes.STR, OpenApiParameter.PATH,
                              description="The department's code: procurement, stores, manufacturing, shipping.")
# One schema for both readers: the internal fields are optional in it, absent for Sales.
ASSESSMENT = s.AssessmentInternalSerializer


class OperationsActions(_ViewSetBase):
    """Mixed into RequestViewSet: these hang under a request's URL."""

    def _assessment_data(self, request: Request, req: FeasibilityRequest, assessments: list[Assessment]) -> list[dict]:
        internal = permissions.allowed(request.user, "s2o.read_internals", req)
        cls = s.AssessmentInternalSerializer if internal else s.AssessmentSerializer
        return cls(assessments, many=True).data  # type: ignore[return-value]  # a list with many=True (see serializers)

    @extend_schema(summary="The departments' assessments (internals for Operations and managers only)",
                   parameters=[REF], responses={200: ASSESSMENT(many=True), **READ_ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def assessments(self, request: Request, reference: str) -> Response:
        req = self.get_object()
        return Response(self._assessment_data(request, req, ops_selectors.assessments_of(req)))

    @extend_schema(methods=["get"], summary="One department's assessment", parameters=[REF, DEPARTMENT],
                   responses={200: ASSESSMENT, **READ_ERRORS})
    @extend_schema(methods=["put"], summary="Record or correct a department's assessment (its members)",
                   parameters=[REF, DEPARTMENT], request=s.AssessmentWriteSerializer,
                   responses={200: s.AssessmentInternalSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["get", "put"], url_path=r"assessments/(?P<department>[^/]+)", pagination_class=None,
            filter_backends=[])
    def assessment(self, request: SignedInApiRequest, reference: str, department: str) -> Response:
        req = self.get_object()
        found = ops_selectors.get_assessment_for(request.user, req.pk, department[:32])
        if request.method == "GET":
            return Response(self._assessment_data(request, req, [found])[0])
        permissions.require(request.user, "s2o.assess_department", found)  # as the page: who, before what
        data = _valid(s.AssessmentWriteSerializer, request)
        constraints = data.pop("constraints", [])
        version = data.pop("version")
        data.setdefault("cost_currency", found.cost_currency or req.currency)
        with service_errors():
            ops_services.assessment_save(assessment_id=found.pk, actor=request.user, data=data, constraints=constraints,
                                         expected_version=version)
        saved = next(a for a in ops_selectors.assessments_of(req) if a.pk == found.pk)
        return Response(s.AssessmentInternalSerializer(saved).data)

    @extend_schema(summary="The published answers, newest first, with their alternatives", parameters=[REF],
                   responses={200: s.AnswerSerializer(many=True), **READ_ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def answers(self, request: Request, reference: str) -> Response:
        req = self.get_object()
        internals = permissions.allowed(request.user, "s2o.read_internals", req)
        answers = ops_selectors.published_answers(req)
        return Response(s.AnswerSerializer(answers, many=True, context={"internals": internals}).data)

    @extend_schema(methods=["get"], summary="The draft answer (operations leads)", parameters=[REF],
                   responses={200: s.DraftAnswerSerializer, **READ_ERRORS})
    @extend_schema(methods=["put"], summary="Save the draft answer (operations leads)", parameters=[REF],
                   request=s.DraftAnswerWriteSerializer, responses={200: s.DraftAnswerSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["get", "put"], url_path="answer-draft", pagination_class=None, filter_backends=[])
    def answer_draft(self, request: SignedInApiRequest, reference: str) -> Response:
        req = self.get_object()
        if request.method == "GET":
            draft = ops_selectors.draft_answer(req) if permissions.allowed(request.user, "s2o.answer_request", req) \
                else None
            if draft is None:
                raise Http404("No draft answer.")
            return Response(s.DraftAnswerSerializer(draft).data)
        permissions.require(request.user, "s2o.answer_request", req)
        data = _valid(s.DraftAnswerWriteSerializer, request)
        with service_errors():
            draft = ops_services.answer_save_draft(
                request_id=req.pk, actor=request.user, decision=data.get("decision") or "", summary=data["summary"],
                justification=data["justification"], alternatives=data.get("alternatives", []),
                expected_version=data.get("version"),
            )
        return Response(s.DraftAnswerSerializer(draft).data)

    @extend_schema(summary="Publish the draft answer (operations leads): the rep is told", parameters=[REF],
                   request=s.PublishSerializer, responses={200: s.AnswerSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"], url_path="answer-draft/publish", filter_backends=[])
    def answer_publish(self, request: SignedInApiRequest, reference: str) -> Response:
        req = self.get_object()
        permissions.require(request.user, "s2o.answer_request", req)
        version = _valid(s.PublishSerializer, request)["version"]
        with service_errors():
            answer = ops_services.answer_publish(request_id=req.pk, actor=request.user, expected_version=version)
        answer = next(a for a in ops_selectors.published_answers(req) if a.pk == answer.pk)
        return Response(s.AnswerSerializer(answer, context={"internals": True}).data)
