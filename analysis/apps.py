from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_constraint_taxonomy(**kwargs: object) -> None:
    from analysis.models import CONSTRAINT_TAXONOMY, ConstraintCategory

    for order, (code, label) in enumerate(CONSTRAINT_TAXONOMY):
        ConstraintCategory.objects.get_or_create(code=code, defaults={"label": label, "sort_order": order})


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Operations analysis"

    def ready(self) -> None:
        from analysis.clocks import on_request_transitioned
        from requests_app.clocks import request_transitioned

        post_migrate.connect(ensure_constraint_taxonomy, sender=self, dispatch_uid="s2o-constraint-taxonomy")
        # Department clocks follow every state change of their request, in its transaction.
        request_transitioned.connect(on_request_transitioned, dispatch_uid="s2o-department-clocks")
