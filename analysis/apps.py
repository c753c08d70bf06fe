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
        post_migrate.connect(ensure_constraint_taxonomy, sender=self, dispatch_uid="s2o-constraint-taxonomy")
