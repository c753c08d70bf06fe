"""API token authentication for Django REST framework: `Authorization: Bearer s2o_…`."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from integrations import services
from integrations.models import ApiToken


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """A personal token created in Preferences. A missing header leaves the request to the other
    authentication classes; a malformed, unknown or revoked token is refused with 401."""

    keywords = (b"bearer", b"token")

    def authenticate(self, request: Request) -> tuple[object, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the token as “Authorization: Bearer <token>”.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("This token is not valid.") from None
        token = services.token_authenticate(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("This token is not valid, or it was revoked.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the token (drf-spectacular finds it by subclassing)."""

    target_class = "integrations.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "s2o_<prefix>_<secret>",
                "description": "A personal token from Preferences → API tokens."}
