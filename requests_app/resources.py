"""Master data from the ERP: customers, products and sales teams, imported from CSV or Excel
(django-import-export), in the admin (with a dry-run preview) and by `manage.py import_master_data`.

Each kind has an update-or-create key — the customer's ERP code, the product's part number, the
team's name — and unchanged rows are skipped, so importing the same file again changes nothing.
A file with any bad row saves nothing; every bad row is named with its reason.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from import_export import fields, resources, widgets
from import_export.results import Result
from tablib import Dataset

from requests_app.models import Customer, Product, SalesTeam


def _text(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    return "" if value is None else " ".join(str(value).split())


class _MasterDataResource(resources.ModelResource):
    """Shared behaviour: trimmed text, required key columns, a clear message per bad row."""

    required: tuple[str, ...] = ()

    def import_data(self, dataset: Dataset, dry_run: bool = False, raise_errors: bool = False,
                    use_transactions: bool | None = None,
                    collect_failed_rows: bool = False, rollback_on_validation_errors: bool = False, **kwargs: Any) -> Result:
        """All or nothing: one bad row (an error or an invalid value) and no row of the file is saved,
        from the admin and the command alike."""
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True,
                                   collect_failed_rows=collect_failed_rows, rollback_on_validation_errors=True, **kwargs)

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        for column in list(row):
            if isinstance(row[column], str):
                row[column] = " ".join(row[column].split())
        missing = [c for c in self.required if not _text(row, c)]
        if missing:
            raise ValidationError({c: "This column is empty; every row needs it." for c in missing})


class CustomerResource(_MasterDataResource):
    """Key: the ERP's customer code. A customer a rep created by name (no code yet) is adopted by
    its name instead of duplicated."""

    required = ("code", "name")
    code = fields.Field(attribute="code", column_name="code")
    name = fields.Field(attribute="name", column_name="name")

    class Meta:
        model = Customer
        fields = ("code", "name")
        import_id_fields = ("code",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Customer | None:
        code = _text(row, "code")
        found = Customer.objects.filter(code=code).first()
        if found is None:
            found = Customer.objects.filter(code="", name__iexact=_text(row, "name")).first()
        return found


class ProductResource(_MasterDataResource):
    """Key: the part number (SKU)."""

    required = ("sku", "name")
    sku = fields.Field(attribute="sku", column_name="sku")
    name = fields.Field(attribute="name", column_name="name")
    unit = fields.Field(attribute="unit", column_name="unit")

    class Meta:
        model = Product
        fields = ("sku", "name", "unit")
        import_id_fields = ("sku",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        super().before_import_row(row, **kwargs)
        if not _text(row, "unit"):
            row["unit"] = "pcs"


class UsernamesWidget(widgets.ManyToManyWidget):
    """Members as user names separated by ";" — an unknown name is an error, never silently dropped."""

    def __init__(self) -> None:
        super().__init__(get_user_model(), field="username", separator=";")

    def clean(self, value: Any, row: dict[str, Any] | None = None, **kwargs: Any) -> QuerySet[Any]:
        names = sorted({n.strip() for n in str(value or "").split(self.separator) if n.strip()})
        users = get_user_model().objects.filter(username__in=names).order_by("username")
        unknown = sorted(set(names) - {u.username for u in users})
        if unknown:
            raise ValueError(f"No S2O user is called {', '.join(repr(n) for n in unknown)}.")
        return users


class SalesTeamResource(_MasterDataResource):
    """Key: the team's name. Members are S2O user names; the file sets the whole membership."""

    required = ("name",)
    name = fields.Field(attribute="name", column_name="name")
    members = fields.Field(attribute="members", column_name="members", widget=UsernamesWidget())

    class Meta:
        model = SalesTeam
        fields = ("name", "members")
        import_id_fields = ("name",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True


RESOURCES: dict[str, type[resources.ModelResource]] = {
    "customers": CustomerResource,
    "products": ProductResource,
    "teams": SalesTeamResource,
}
