from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Doors to other systems: API tokens, outbound webhooks, replies by e-mail.

    Depends on `requests_app`; neither core app depends on it (`lint-imports` checks it)."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations import signals  # noqa: F401  (webhook events from the request timeline, inbound mail)
        from requests_app import pages, permissions

        pages.register_link(
            "Webhooks", "integrations:webhooks", lambda user: permissions.allowed(user, "s2o.manage_webhooks"), order=80
        )
