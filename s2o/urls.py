from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from integrations import views as integration_views
from integrations.api import docs as api_docs
from requests_app import views as request_views
from s2o.health import healthz

urlpatterns = [
    path("", request_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("requests/", include("requests_app.urls")),
    path("requests/", include("analysis.urls_decisions")),
    path("ops/", include("analysis.urls")),
    path("integrations/", include("integrations.urls")),
    # Replies by e-mail: the URL anymail documents for Mailgun's inbound route (raw MIME or parsed).
    path("anymail/mailgun/inbound/", integration_views.mailgun_inbound, name="mailgun_inbound"),
    path("anymail/mailgun/inbound_mime/", integration_views.mailgun_inbound, name="mailgun_inbound_mime"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("integrations.api.urls")),
    path("api/schema/", api_docs.SchemaView.as_view(), name="api-schema"),
    path("api/docs/", api_docs.SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", api_docs.RedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

handler400 = "requests_app.views.bad_request"
handler403 = "requests_app.views.permission_denied"
handler404 = "requests_app.views.page_not_found"
handler500 = "requests_app.views.server_error"
