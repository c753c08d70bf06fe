"""Pickers that search: customer, product and rep fields as a text input plus a small JSON search.

A <select> of every customer ships two thousand options (~100 KB of HTML and ~100 ms of rendering
on every list and dashboard view) and grows with the master data. A picker is a text input instead:
* with JavaScript, Tom Select (npm, static/js/pickers.js) turns it into a search-as-you-type box
  that asks `requests_app:pick` for at most `LIMIT` matches as the user types;
* without it, the user types the customer's name or ERP code, the product's part number, or the
  rep's user name, and the form resolves it (a clear message when nothing matches; the input stays).

The value sent is each row's unique natural key (a customer's name, a product's part number, a
user name), so what Tom Select posts and what a person types resolve the same way, and a link with
`?customer=Acme+Industrial` reads as what it filters. Who may search each list is a permission of
the rulebook (`permissions`): the same people who see the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Case, IntegerField, Model, Q, QuerySet, Value, When
from django.urls import reverse

from requests_app.models import Customer, Product, Role

M = TypeVar("M", bound=Model)

LIMIT = 20
MAX_QUERY = 100


@dataclass(frozen=True)
class Source:
    """One list a picker searches: who may, how a row is found, keyed and shown."""

    name: str
    noun: str
    permission: str
    rows: Callable[[], QuerySet]
    match: Callable[[str], Q]  # what a typed fragment matches (icontains on the searched columns)
    prefix: Callable[[str], Q]  # matches listed first (the fragment starts the name or key)
    order: tuple[str, ...]
    key: Callable[[Any], str]  # the unique text sent as the field's value
    label: Callable[[Any], str]
    resolve: Callable[[QuerySet, str], Any]  # typed or posted text → the row, or None

    def url(self) -> str:
        return reverse("requests_app:pick", args=[self.name])


def _one(queryset: QuerySet[M]) -> M | None:
    found = list(queryset[:2])
    return found[0] if len(found) == 1 else None


def _customer(rows: QuerySet[Customer], text: str) -> Customer | None:
    # The exact name first (what the picker posts; names are unique), then the ERP code, then a
    # name typed in another case.
    return (rows.filter(name=text).first() or _one(rows.filter(code__iexact=text).exclude(code=""))
            or _one(rows.filter(name__iexact=text)))


def _customer_label(customer: Customer) -> str:
    return f"{customer.name} ({customer.code})" if customer.code else customer.name


def _reps() -> QuerySet:
    people = get_user_model().objects.filter(is_active=True, groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER])
    return get_user_model().objects.filter(pk__in=people.values("pk"))


def _rep_label(user: Any) -> str:
    name = user.get_full_name().strip()
    return f"{name} ({user.username})" if name else user.username


CUSTOMERS = Source(
    name="customers", noun="customer", permission="s2o.search_customers", rows=Customer.objects.all,
    match=lambda q: Q(name__icontains=q) | Q(code__icontains=q),
    prefix=lambda q: Q(name__istartswith=q) | Q(code__istartswith=q),
    order=("name",), key=lambda c: c.name, label=_customer_label, resolve=_customer,
)
PRODUCTS = Source(
    name="products", noun="product", permission="s2o.search_products", rows=Product.objects.all,
    match=lambda q: Q(sku__icontains=q) | Q(name__icontains=q), prefix=lambda q: Q(sku__istartswith=q),
    order=("sku",), key=lambda p: p.sku, label=lambda p: f"{p.sku} — {p.name}",
    resolve=lambda rows, text: _one(rows.filter(sku__iexact=text)),
)
REPS = Source(
    name="reps", noun="rep", permission="s2o.search_reps", rows=_reps,
    match=lambda q: Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q),
    prefix=lambda q: Q(username__istartswith=q) | Q(first_name__istartswith=q) | Q(last_name__istartswith=q),
    order=("first_name", "last_name", "username"), key=lambda u: u.username, label=_rep_label,
    resolve=lambda rows, text: _one(rows.filter(username__iexact=text)),
)
SOURCES = {source.name: source for source in (CUSTOMERS, PRODUCTS, REPS)}


def search(source: Source, text: str) -> list[dict[str, str]]:
    """At most LIMIT rows matching `text` (those it starts first, then alphabetically), as
    {"value": key, "text": label}; the first LIMIT rows when `text` is empty. One query."""
    text = " ".join(text.split())[:MAX_QUERY]
    rows = source.rows()
    if text:
        first = Case(When(source.prefix(text), then=Value(0)), default=Value(1), output_field=IntegerField())
        rows = rows.filter(source.match(text)).annotate(_first=first).order_by("_first", *source.order)
    else:
        rows = rows.order_by(*source.order)
    return [{"value": source.key(row), "text": source.label(row)} for row in rows[:LIMIT]]


class PickerInput(forms.TextInput):
    """The field's text input; `data-picker` tells static/js/pickers.js where to search."""

    def __init__(self, source: Source, attrs: dict | None = None) -> None:
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})
        self.source = source

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["data-picker"] = self.source.url()
        context["widget"]["attrs"].setdefault("placeholder", f"Type to search a {self.source.noun}")
        return context


class PickerField(forms.Field):
    """A row of `source`, typed (name, code, part number, user name) or picked; cleans to the row."""

    def __init__(self, *, source: Source, **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("widget", PickerInput(source))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        """What the input shows: the row's key (an edit form's initial value is the row's id)."""
        if isinstance(value, Model):
            return self.source.key(value)
        if isinstance(value, int):
            row = self.source.rows().filter(pk=value).first()
            return self.source.key(row) if row else ""
        return value

    def to_python(self, value: Any) -> Any:
        text = " ".join(str(value or "").split())
        if not text:
            return None
        if "\x00" in text:
            raise forms.ValidationError(f"A {self.source.noun} name cannot contain a NUL character.", code="nul")
        row = self.source.resolve(self.source.rows(), text[:MAX_QUERY])
        if row is None:
            raise forms.ValidationError(
                f"No {self.source.noun} matches “{text[:MAX_QUERY]}”: pick one from the suggestions, "
                f"or type {_how_to_type[self.source.name]}.",
                code="unknown",
            )
        return row


_how_to_type = {
    "customers": "its exact name or ERP code",
    "products": "its exact part number",
    "reps": "the rep's user name",
}
