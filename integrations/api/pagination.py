"""Pages of 50 (up to 200 with `page_size`); a page that is not a positive number, or past the
last one, is a 400 naming `page`, not a 404 that would read as "no such resource"."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: APIView | None = None) -> list[Any] | None:
        raw = request.query_params.get(self.page_query_param, "1")
        if not raw.isdecimal() or len(raw) > 9 or int(raw) < 1:
            raise ValidationError({self.page_query_param: ["Give the page as a whole number from 1."]})
        size = request.query_params.get(self.page_size_query_param)
        if size is not None and (not size.isdecimal() or len(size) > 9 or not 1 <= int(size) <= self.max_page_size):
            raise ValidationError({self.page_size_query_param: [f"Give a page size from 1 to {self.max_page_size}."]})
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:  # DRF's answer to a page past the last one
            raise ValidationError({self.page_query_param: ["There is no such page: it is past the last one."]}) from exc
