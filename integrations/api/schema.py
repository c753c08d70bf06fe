"""The error responses every operation documents (OpenAPI), one definition."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

_detail = inline_serializer("Error", fields={
    "detail": serializers.CharField(),
    "code": serializers.CharField(help_text="e.g. not_authenticated, not_allowed, not_found, stale_version, "
                                            "invalid_state, idempotency_key_reused, throttled"),
})
# {"quantity": ["…"], "non_field_errors": ["…"]} (nested objects, e.g. alternatives, get a list of such
# objects), or {"detail": "JSON parse error …", "code": "parse_error"} for a body that is not JSON.
_fields = {"type": "object", "description": "Each bad field (or non_field_errors) with its messages; or, for a "
                                            "body that could not be read, detail and code.",
           "additionalProperties": {}}

ERRORS = {
    400: OpenApiResponse(_fields, "Bad input: every bad field named with what is wrong."),
    401: OpenApiResponse(_detail, "No token or session, or a token that is unknown or revoked."),
    403: OpenApiResponse(_detail, "The caller may see this but not do this (the rulebook's reason)."),
    404: OpenApiResponse(_detail, "No such object, or one the caller may not see."),
    409: OpenApiResponse(_detail, "stale_version: changed by someone else since you read its version; "
                                  "invalid_state: not possible in the request's current state."),
    422: OpenApiResponse(_detail, "This Idempotency-Key was used before with another body."),
    429: OpenApiResponse(_detail, "Too many calls with this token: wait for Retry-After seconds."),
}
READ_ERRORS = {code: ERRORS[code] for code in (400, 401, 403, 404, 429)}
WRITE_ERRORS = {code: ERRORS[code] for code in (400, 401, 403, 404, 409, 429)}
