from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_constraint_taxonomy(**kwargs: object) -> None:
    from analysis.models import CONSTRAINT_TAXONOMY, ConstraintCategory

    for order, (code, label) in enumerate(CONSTRAINT_TAXONOMY):
        ConstraintCategory.objects.get_or_create(code=code, defaults={"label": label, "sort_order": order})


def may(perm: str) -> Any:
    """`allowed(user)` for a navigation link or landing page: the rulebook's page permission."""
    from requests_app import permissions

    return lambda user: permissions.allowed(user, perm)


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Operations analysis"

    def ready(self) -> None:
        from analysis import (
            emails,  # noqa: F401  (registers the answer e-mail's context)
            panels,
        )
        from analysis.clocks import on_request_transitioned
        from requests_app import pages
        from requests_app.clocks import request_transitioned

        post_migrate.connect(ensure_constraint_taxonomy, sender=self, dispatch_uid="s2o-constraint-taxonomy")
        # Department clocks follow every state change of their request, in its transaction.
        request_transitioned.connect(on_request_transitioned, dispatch_uid="s2o-department-clocks")
        # What Operations adds to requests_app's pages, which never import this app.
        pages.register_panel("answer", panels.answer_panel, order=10)
        pages.register_panel("operations", panels.operations_panel, order=20)
        pages.register_panel("improvements", panels.improvements_panel, order=5)
        pages.register_panel("precedents", panels.precedents_panel, order=30)
        pages.register_panel("forecast", panels.forecast_panel, order=25)
        pages.register_filing_aid("forecast", "analysis:forecast", may("s2o.view_precedents"), order=5)
        pages.register_filing_aid("precedents", "analysis:precedents", may("s2o.view_precedents"), order=10)
        pages.register_link("Triage", "analysis:triage", may("s2o.acknowledge_request"), order=30)
        pages.register_link("My department", "analysis:department_queue", may("s2o.view_department_queue"), order=40)
        pages.register_link("Dashboard", "analysis:dashboard", may("s2o.view_dashboard"), order=60)
        pages.register_link("Improvements", "analysis:improvements", may("s2o.view_improvements"), order=65)
        pages.register_link("SLA policies", "analysis:sla_policies", may("s2o.manage_sla"), order=70)
        pages.register_landing("analysis:dashboard", may("s2o.view_dashboard"), order=10)
        pages.register_landing("analysis:triage", may("s2o.acknowledge_request"), order=20)
        pages.register_landing("analysis:department_queue", may("s2o.view_department_queue"), order=30)
