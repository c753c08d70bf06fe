"""The OpenAPI schema and its two readers, Swagger UI and Redoc, served by the app itself
(drf-spectacular-sidecar; no CDN), for logged-in people only: the docs describe what a token can
do, and anonymous visitors have no token. The schema answers a session or a token (401
otherwise); the reader pages send an anonymous visitor to the login page.

Both pages run under the site's Content Security Policy without inline script: Swagger UI's
start-up script is served as a file (drf-spectacular's "split" view), and the templates in
templates/drf_spectacular/ replace the packaged ones, which carry an inline <style> and, for
Redoc, fonts from a CDN. Redoc writes its styles into <style> elements at run time (styled-
components) and starts a web worker from a blob: URL, so its page alone allows inline styles and
blob: workers — never inline script."""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView


class SchemaView(SpectacularAPIView):
    """/api/schema/: the OpenAPI 3 document (YAML; `?format=json` for JSON)."""


@method_decorator([never_cache, login_required], name="dispatch")
class SwaggerView(SpectacularSwaggerSplitView):
    """/api/docs/: Swagger UI. Its start-up script (`?script`) carries the CSRF token, so no cache."""

    permission_classes: list = []
    template_name = "drf_spectacular/swagger_ui.html"


@method_decorator([never_cache, login_required, csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})],
                  name="dispatch")
class RedocView(SpectacularRedocView):
    """/api/redoc/: Redoc."""

    permission_classes: list = []
    template_name = "drf_spectacular/redoc.html"
