from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Feasibility requests"

    def ready(self) -> None:
        from requests_app import permissions  # noqa: F401  (registers the rulebook's permissions)
        from requests_app.defaults import ensure_reference_data

        post_migrate.connect(ensure_reference_data, sender=self, dispatch_uid="s2o-reference-data")
