"""Operations' URLs, one module per feature area so each stays small."""

from analysis import urls_dashboard, urls_ops, urls_sla

app_name = "analysis"

urlpatterns = [*urls_ops.urlpatterns, *urls_sla.urlpatterns, *urls_dashboard.urlpatterns]
