from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Doors to other systems: API tokens, outbound webhooks, replies by e-mail, ERP imports.

    Depends on `requests_app` (and reads `analysis` where an event needs it); neither depends on it."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations import signals  # noqa: F401  (webhook events from the request timeline, inbound mail)
