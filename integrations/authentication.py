"""API token authentication for Django REST framework: `Authorization: Bearer s2o_…`."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from integrations import services
from integrations.models import ApiToken

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    class SignedInApiRequest(Request):
        """An API view's request: every endpoint needs a signed-in caller (IsAuthenticated is the
        default permission class), so its user is a person, never anonymous."""

        @property
        def user(self) -> User: ...

        @user.setter
        def user(self, value: User) -> None: ...


def caller(request: Request) -> User:
    """The signed-in caller of an API view: IsAuthenticated, the default permission class, lets no
    one else in (for the types; where a view's signature must stay DRF's own)."""
    return cast("User", request.user)


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
