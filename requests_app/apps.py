from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


def files_requests(user: Any) -> bool:
    from requests_app import permissions

    return permissions.allowed(user, "s2o.file_request")


def reads_all_requests(user: Any) -> bool:
    """Leads and managers, who file nothing themselves, get the whole list as "All requests"."""
    from requests_app import roles

    return roles.sees_everything(user) and not files_requests(user)


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Feasibility requests"

    def ready(self) -> None:
        from requests_app import pages, permissions  # noqa: F401  (registers the rulebook's permissions)
        from requests_app.defaults import ensure_reference_data

        post_migrate.connect(ensure_reference_data, sender=self, dispatch_uid="s2o-reference-data")
        from django.contrib.auth.signals import user_logged_in

        from requests_app.middleware import session_expires_at_log_in

        user_logged_in.connect(session_expires_at_log_in, dispatch_uid="s2o-session-absolute-expiry")
        # Pages keep calendars for a minute (`clocks.page_calendar`); a change saved here is shown at once.
        from requests_app.clocks import forget_page_calendars
        from requests_app.models import BusinessCalendar, CompanyClosure

        for model in (BusinessCalendar, CompanyClosure):
            for signal in (post_save, post_delete):
                signal.connect(forget_page_calendars, sender=model, dispatch_uid=f"s2o-page-calendars-{model.__name__}")
        # Sales' own pages; `analysis` adds Operations' and managers' (see `pages`).
        pages.register_link("My work", "requests_app:my_work", files_requests, order=5)
        pages.register_link("My requests", "requests_app:list", files_requests, order=10)
        pages.register_link("New request", "requests_app:create", files_requests, order=20)
        pages.register_link("All requests", "requests_app:list", reads_all_requests, order=50)
        pages.register_landing("requests_app:my_work", files_requests, order=40)
