"""One translation of the services' refusals into API responses (REST_FRAMEWORK's EXCEPTION_HANDLER).

- `permissions.NotAllowed` (a PermissionDenied): 403 with the rulebook's own message;
- `Http404` (out of scope or missing): 404, never saying which;
- `lifecycle.ConflictError` (a stale `version`): 409, code `stale_version`;
- `lifecycle.TransitionError` (not possible in the request's state): 409, code `invalid_state`;
- Django's `ValidationError` from a service: 400, keyed by field (`non_field_errors` otherwise);
- anything else DRF knows (bad JSON, 401, 405, 429, serializer errors) as DRF answers it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from requests_app.lifecycle import ConflictError, TransitionError

NON_FIELD = "non_field_errors"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This request was changed by someone else."
    default_code = "stale_version"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This request cannot be processed."
    default_code = "unprocessable"


def _field_errors(exc: DjangoValidationError, fields: dict[str, str] | None = None) -> dict[str, list[str]]:
    """A service's ValidationError as {field: [messages]}; `fields` renames a service's names to the API's."""
    fields = fields or {}
    if hasattr(exc, "error_dict"):
        return {
            (NON_FIELD if name == "__all__" else fields.get(name, name)): list(messages)
            for name, messages in exc.message_dict.items()
        }
    return {NON_FIELD: list(exc.messages)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ConflictError):
        exc = Conflict(str(exc), code="stale_version")
    elif isinstance(exc, TransitionError):
        exc = Conflict(str(exc), code="invalid_state")
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_field_errors(exc))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException) and isinstance(response.data, dict) \
            and "detail" in response.data and not isinstance(exc, exceptions.ValidationError):
        # A machine-readable code beside the sentence (e.g. stale_version vs invalid_state, both 409).
        codes = exc.get_codes()
        response.data["code"] = codes if isinstance(codes, str) else exc.default_code
    return response


@contextmanager
def service_errors(field: str = NON_FIELD, fields: dict[str, str] | None = None) -> Iterator[None]:
    """Around one service call: its plain `ValueError` (bad input it refuses, e.g. an empty reason)
    becomes a 400 on `field`, and its field-keyed ValidationError a 400 on the API's field names."""
    try:
        yield
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(_field_errors(exc, fields)) from exc
    except (ConflictError, TransitionError, PermissionDenied):
        raise
    except ValueError as exc:
        raise exceptions.ValidationError({field: [str(exc)]}) from exc
