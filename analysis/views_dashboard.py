"""Manager dashboard: the page, its CSV downloads and a JSON twin. Figures: `analysis.metrics`."""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import CharField, F, Model, QuerySet, Value
from django.forms.utils import flatatt
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import date as date_format
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from analysis import metrics
from requests_app import businesstime, csv_export, permissions, pickers, services_sla
from requests_app.clocks import default_calendar
from requests_app.models import Department, Priority, SalesTeam
from requests_app.pickers import PickerField, PickerInput

MAX_PERIOD_DAYS = 3 * 366
# Dates a filter may name: the company's history starts after 2000, and a year ahead is as far as
# anyone plans. Outside these, the bounds the dashboard derives (the previous period, the trend's
# first Monday) would leave the dates Python can represent.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_AHEAD = timedelta(days=365)
PAGE_ROWS = 25  # per-customer/rep table rows on the page; the CSV has them all
MIN_WEEKLY_SAMPLE = 5
"""The trend chart draws a week's median time to answer only over at least this many answers: the
current week's first answer alone would otherwise pull the line to it (the table gives every week's
median with its sample)."""


class FastSelect(forms.Widget):
    """A <select> over `options`, rendered with a plain join: Django's Select renders each <option>
    through a template and normalises the choices again on every form, which costs a few hundred
    milliseconds for the two thousand customers of the bench data."""

    def __init__(self, attrs: dict[str, Any] | None = None, options: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(attrs)
        self.options = list(options)

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = "" if value is None else str(value)
        # The standard library's html.escape (what Django's escape calls, minus its lazy-string
        # wrapper): half the cost for two thousand options.
        options = "".join(
            f'<option value="{html.escape(str(key))}"{" selected" if str(key) == selected else ""}>'
            f"{html.escape(str(label))}</option>"
            for key, label in self.options
        )
        return mark_safe(f"<select{flatatt(final)}>{options}</select>")  # every value above is escaped  # nosec B308 B703


def filter_choices() -> dict[str, list[tuple[int, str]]]:
    """Departments and sales teams for the filter bar (a few dozen): one UNION query. Customers
    and reps are pickers that search (`requests_app.pickers`): thousands of them are never shipped."""
    text: CharField[str, str] = CharField()

    def rows(model: type[Model], kind: str, label: Any, alt: Any = None, **where: Any) -> QuerySet:
        return (
            model._default_manager.filter(**where)
            .annotate(kind=Value(kind, output_field=text), label=label, alt=alt or Value("", output_field=text))
            .values_list("kind", "pk", "label", "alt")
            .order_by()
        )

    union = rows(Department, "department", F("name")).union(rows(SalesTeam, "sales_team", F("name")))
    out: dict[str, list[tuple[int, str]]] = {"department": [], "sales_team": []}
    for kind, pk, label, alt in union:
        out[kind].append((pk, (label or "").strip() or alt))
    for items in out.values():
        items.sort(key=lambda item: item[1].lower())
    return out


class DashboardFilterForm(forms.Form):
    date_from = forms.DateField(label="Submitted from", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="to", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    department = forms.IntegerField(required=False, widget=FastSelect)
    customer = PickerField(source=pickers.CUSTOMERS, required=False,
                           widget=PickerInput(pickers.CUSTOMERS, {"placeholder": "All customers"}))
    sales_team = forms.IntegerField(required=False, widget=FastSelect)
    rep = PickerField(source=pickers.REPS, required=False, widget=PickerInput(pickers.REPS, {"placeholder": "All reps"}))
    priority = forms.ChoiceField(choices=[("", "All priorities"), *Priority.choices], required=False)

    def __init__(self, *args: Any, choices: dict[str, list[tuple[int, str]]], today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        default = metrics.DashboardFilter.default(today=today)
        latest = today + LATEST_AHEAD
        for name in ("date_from", "date_to"):
            field = self.fields[name]
            message = f"Choose a date between {EARLIEST_DATE:%-d %b %Y} and {latest:%-d %b %Y}."
            field.validators += [MinValueValidator(EARLIEST_DATE, message), MaxValueValidator(latest, message)]
            field.widget.attrs.update(min=EARLIEST_DATE.isoformat(), max=latest.isoformat())
        self.fields["date_from"].widget.attrs["placeholder"] = default.date_from.isoformat()
        self.known_ids = {name: {pk for pk, _ in items} for name, items in choices.items()}
        for name, everyone in (("department", "All departments"), ("sales_team", "All teams")):
            self.fields[name].widget.options = [("", everyone), *choices[name]]
        for bound in self.visible_fields():
            bound.field.widget.attrs["class"] = "form-select form-select-sm" if isinstance(
                bound.field.widget, forms.Select | FastSelect) else "form-control form-control-sm"

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name, known in self.known_ids.items():
            if data.get(name) is not None and data[name] not in known:
                self.add_error(name, "Select one of the listed values.")
        if self.has_error("date_from") or self.has_error("date_to"):
            return data  # a date out of range or unreadable: nothing to derive from it
        default = metrics.DashboardFilter.default(today=self.today)
        date_to = data.get("date_to") or default.date_to
        date_from = data.get("date_from") or max(date_to - timedelta(days=metrics.DEFAULT_PERIOD_DAYS - 1),
                                                 EARLIEST_DATE)
        if date_from > date_to:
            raise forms.ValidationError("The start date must be on or before the end date.")
        if (date_to - date_from).days >= MAX_PERIOD_DAYS:
            raise forms.ValidationError("Choose a period of at most three years.")
        data["date_from"], data["date_to"] = date_from, date_to
        return data

    def dashboard_filter(self) -> metrics.DashboardFilter:
        """The filter asked for, or the default one while the input is invalid (errors are shown)."""
        if not self.is_bound or not self.is_valid():
            return metrics.DashboardFilter.default(today=self.today)
        d = self.cleaned_data
        return metrics.DashboardFilter(date_from=d["date_from"], date_to=d["date_to"], department=d["department"],
                                       customer=d["customer"] and d["customer"].pk, sales_team=d["sales_team"],
                                       rep=d["rep"] and d["rep"].pk,
                                       priority=d["priority"] or "")


@dataclass(frozen=True)
class Column:
    """One column of a dashboard table: the same label (capitalised on the page), the same
    attribute and so the same figure on the page and in its CSV."""

    label: str
    attr: str
    numeric: bool = True


_GROUP_COLUMNS = [Column("requests", "requests"), Column("closed answered", "closed_answered"),
                  Column("fill rate %", "fill_rate"), Column("evaporation rate %", "evaporation_rate"),
                  Column("median time to answer (h)", "answer_median_hours")]
_REQUEST_COLUMNS = [Column("reference", "reference", False), Column("title", "title", False),
                    Column("customer", "customer", False), Column("status", "status", False),
                    Column("priority", "priority", False), Column("clock", "clock", False),
                    Column("due", "due", False)]
TABLES: dict[str, list[Column]] = {
    "kpis": [Column("figure", "label", False), Column("value", "value"), Column("previous period", "previous"),
             Column("change", "change"), Column("unit", "unit", False)],
    "trend": [Column("week", "week", False), Column("filed", "filed"),
              Column("answered", "answered"), Column("median time to answer (h)", "answer_median_hours"),
              Column("answer SLA met %", "answer_met_pct"),
              Column("acknowledge SLA met %", "ack_met_pct")],
    "departments": [Column("department", "department", False), Column("routed", "routed"),
                    Column("assessed", "assessed"), Column("median assessment time (h)", "median_hours"),
                    Column("own due met %", "met_pct"), Column("breaches", "breaches"),
                    Column("CANNOT share %", "cannot_share")],
    "pareto": [Column("constraint", "label", False), Column("blocked", "blocked"),
               Column("bent into an alternative", "bent"), Column("of which both", "both"),
               Column("requests affected", "requests"),
               Column("value at stake ({currency})", "value_at_stake"),
               Column("without an exchange rate", "unconverted"),
               Column("cumulative %", "cumulative_pct")],
    "teams": [Column("sales team", "label", False), *_GROUP_COLUMNS],
    "reps": [Column("rep", "label", False), *_GROUP_COLUMNS],
    "customers": [Column("customer", "label", False), *_GROUP_COLUMNS],
    "breached": _REQUEST_COLUMNS,
    "at_risk": _REQUEST_COLUMNS,
}
"""Every dashboard table (except the KPI cards, which are cards on the page) and its CSV."""


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value


def _page_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "D j M Y H:i")
    if isinstance(value, date):
        return date_format(value, "j M Y")
    if isinstance(value, Decimal):
        return f"{value:,.0f}"
    return str(value)


def column_labels(board: metrics.Dashboard, table: str) -> list[str]:
    return [c.label.format(currency=board.reporting_currency) for c in TABLES[table]]


def table_rows(board: metrics.Dashboard, table: str) -> list[list[Any]]:
    """A table's rows as figures (the CSV's cells)."""
    return [[_csv_value(getattr(item, c.attr)) for c in TABLES[table]] for item in getattr(board, table)]


# Tables whose template lays out their items itself (links, clock colours): no generic rows to format.
ITEM_TABLES = ("breached", "at_risk")


def _page_table(board: metrics.Dashboard, table: str, limit: int | None = None) -> dict[str, Any]:
    items = getattr(board, table)
    shown = items[:limit] if limit else items
    return {
        "name": table,
        "columns": [Column(label, c.attr, c.numeric) for label, c in zip(column_labels(board, table), TABLES[table],
                                                                           strict=True)],
        "rows": [] if table in ITEM_TABLES else [[(_page_value(getattr(item, c.attr)), c.numeric) for c in TABLES[table]]
                                                 for item in shown],
        "items": shown,
        "total": len(items),
    }


def _csv(board: metrics.Dashboard, table: str) -> HttpResponse:
    if table not in TABLES:
        raise Http404("No such table.")
    f = board.filter
    rows = [column_labels(board, table), *table_rows(board, table)]
    return csv_export.csv_response(rows, filename=f"s2o-{table}-{f.date_from}-{f.date_to}.csv")


_calendar_cache: tuple[int, float, businesstime.WorkCalendar] | None = None
CALENDAR_CACHE_SECONDS = 60


def default_work_calendar() -> businesstime.WorkCalendar:
    """The default calendar, kept per process while no calendar, closure or policy has changed
    (`services_sla.reference_generation`, one indexed query, checked on every view: a change in
    any process shows on the next page everywhere) and for at most a minute (a change made around
    the services, e.g. in a database shell). It sets the "due in the next 24 business hours" horizon."""
    global _calendar_cache
    generation = services_sla.reference_generation()
    if _calendar_cache is None or _calendar_cache[0] != generation or _calendar_cache[1] < time.monotonic():
        _calendar_cache = (generation, time.monotonic() + CALENDAR_CACHE_SECONDS, default_calendar().as_work_calendar())
    return _calendar_cache[2]


def _board(request: HttpRequest, *, group_rows: int | None = None) -> tuple[DashboardFilterForm, metrics.Dashboard]:
    permissions.require(request.user, "s2o.view_dashboard")
    today = timezone.localdate()
    choices = filter_choices()
    form = DashboardFilterForm(request.GET or None, choices=choices, today=today)
    board = metrics.dashboard(form.dashboard_filter(), now=timezone.now(), work_calendar=default_work_calendar(),
                              known_departments=choices["department"], group_rows=group_rows)
    return form, board


def _charts(board: metrics.Dashboard) -> dict[str, Any]:
    """The charts' data; one unit per chart (a count, hours, or percentages), never two on one axis."""
    weeks = board.trend
    return {
        "trend": {"labels": [w.week.isoformat() for w in weeks], "filed": [w.filed for w in weeks],
                  "median": [w.answer_median_hours if w.answered >= MIN_WEEKLY_SAMPLE else None for w in weeks],
                  "answer_met": [w.answer_met_pct for w in weeks], "ack_met": [w.ack_met_pct for w in weeks]},
        "departments": {"labels": [d.department for d in board.departments],
                        "median": [d.median_hours for d in board.departments],
                        "met": [d.met_pct for d in board.departments]},
        "pareto": {"labels": [p.label for p in board.pareto], "requests": [p.requests for p in board.pareto],
                   "cumulative": [p.cumulative_pct for p in board.pareto]},
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    table = request.GET.get("export")
    # The page shows the first PAGE_ROWS reps and customers: only their medians are needed. A CSV has them all.
    form, board = _board(request, group_rows=None if table else PAGE_ROWS)
    if table:
        if form.is_bound and not form.is_valid():  # never a file for another period than the one asked
            return HttpResponseBadRequest(_errors_text(form), content_type="text/plain; charset=utf-8")
        return _csv(board, table)
    query = request.GET.copy()
    query.pop("export", None)
    tables = {name: _page_table(board, name, PAGE_ROWS if name in ("teams", "reps", "customers") else None)
              for name in TABLES if name != "kpis"}
    return render(request, "analysis/dashboard.html", {
        "form": form, "board": board, "charts": _charts(board), "query": query.urlencode(),
        "page_rows": PAGE_ROWS, "tables": tables, "min_weekly_sample": MIN_WEEKLY_SAMPLE,
        "can_manage_rates": permissions.allowed(request.user, "s2o.manage_exchange_rates"),
    })


def _errors_text(form: DashboardFilterForm) -> str:
    return "\n".join(f"{'' if name == '__all__' else name + ': '}{message}"
                     for name, messages in form.errors.items() for message in messages)


@login_required
def dashboard_json(request: HttpRequest) -> JsonResponse:
    form, board = _board(request)
    if form.is_bound and not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    return JsonResponse(board.as_json())
