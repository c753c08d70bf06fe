"""What the dashboard is asked for: the period and the filters, and the requests they select."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from analysis.models import Assessment
from requests_app.models import FeasibilityRequest, Status

TREND_WEEKS = 26
DEFAULT_PERIOD_DAYS = 90


@dataclass(frozen=True)
class DashboardFilter:
    """What the URL asks for; dates are local calendar days, `date_to` inclusive.

    The form (analysis.views_dashboard) keeps the dates inside `DATE_RANGE`, so every bound below —
    the previous period, the trend's first Monday — is a date Python can represent."""

    date_from: date
    date_to: date
    department: int | None = None
    customer: int | None = None
    sales_team: int | None = None
    rep: int | None = None
    priority: str = ""

    @classmethod
    def default(cls, *, today: date) -> DashboardFilter:
        return cls(date_from=today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), date_to=today)

    @property
    def start(self) -> datetime:
        return local_midnight(self.date_from)

    @property
    def end(self) -> datetime:
        return local_midnight(self.date_to + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def previous_start(self) -> datetime:
        """The same number of days just before (local midnights, also across a change of daylight saving)."""
        return local_midnight(self.date_from - timedelta(days=self.days))

    @property
    def trend_start(self) -> datetime:
        last_day = self.date_to
        monday = last_day - timedelta(days=last_day.weekday())
        return local_midnight(monday - timedelta(weeks=TREND_WEEKS - 1))

    @property
    def narrowed(self) -> bool:
        """Whether any filter besides the dates is set."""
        return bool(self.department or self.customer or self.sales_team or self.rep or self.priority)


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(0)), timezone.get_current_timezone())


def request_q(f: DashboardFilter, prefix: str = "") -> Q:
    """Every filter except the date range and the department, on FeasibilityRequest (or through `prefix`)."""
    q = ~Q(**{f"{prefix}status": Status.DRAFT})
    for name, value in (("customer_id", f.customer), ("sales_team_id", f.sales_team), ("requested_by_id", f.rep)):
        if value:
            q &= Q(**{f"{prefix}{name}": value})
    if f.priority:
        q &= Q(**{f"{prefix}priority": f.priority})
    return q


def requests_in(f: DashboardFilter, start: datetime, end: datetime) -> QuerySet[FeasibilityRequest]:
    """The filter's requests submitted in [start, end)."""
    qs = FeasibilityRequest.objects.filter(request_q(f), submitted_at__gte=start, submitted_at__lt=end)
    if f.department:
        # EXISTS rather than a join: a request routed to several departments must count once.
        qs = qs.filter(Exists(Assessment.objects.filter(request=OuterRef("pk"), department_id=f.department)))
    return qs.order_by()
