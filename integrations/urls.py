from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/new/", views.webhook_create, name="webhook_create"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook_detail"),
    path("webhooks/deliveries/<int:pk>/", views.delivery_detail, name="delivery_detail"),
    path("webhooks/deliveries/<int:pk>/resend/", views.delivery_resend, name="delivery_resend"),
]
