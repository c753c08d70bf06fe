"""Costs say what they cover: an assessment's cost impact and an alternative's cost delta are per
unit or for the whole quantity.

Rows recorded before the basis existed get one from their own wording: a note (or an alternative's
conditions) that speaks of a cost per unit, per piece, per kg, “/pc” or the request's own unit reads per unit; every other
cost reads for the whole quantity, the usual meaning of a department's "cost impact" (an overtime
shift, a tooling charge, a freight surcharge). The constraint that a cost has a basis follows in
0006, after the rows are filled in (PostgreSQL refuses ALTER TABLE after an UPDATE in one transaction
when triggers are pending)."""

import re

from django.db import migrations, models

_COUNT_WORDS = r"unit|pc|pcs|piece|item|kg|m|metre|meter|set|box|roll|litre|liter"
PER_UNIT_WORDING = re.compile(rf"\b(per|a)\s+({_COUNT_WORDS})\b|/\s*({_COUNT_WORDS})\b|\bapiece\b", re.IGNORECASE)


def reads_per_unit(text: str, unit: str) -> bool:
    if PER_UNIT_WORDING.search(text or ""):
        return True
    unit = (unit or "").strip()
    return bool(unit) and re.search(rf"\b(per|a)\s+{re.escape(unit)}\b|/\s*{re.escape(unit)}\b", text or "", re.IGNORECASE) is not None


def fill_in_bases(apps, schema_editor):
    Assessment = apps.get_model("analysis", "Assessment")
    Alternative = apps.get_model("analysis", "Alternative")
    for row in Assessment.objects.filter(cost_impact__isnull=False, cost_basis="").select_related("request").iterator():
        basis = "per_unit" if reads_per_unit(row.notes, row.request.unit) else "total"
        Assessment.objects.filter(pk=row.pk).update(cost_basis=basis)
    for row in (Alternative.objects.filter(cost_delta__isnull=False, cost_basis="")
                .select_related("answer__request").iterator()):
        basis = "per_unit" if reads_per_unit(row.conditions, row.answer.request.unit) else "total"
        Alternative.objects.filter(pk=row.pk).update(cost_basis=basis)


class Migration(migrations.Migration):

    dependencies = [
        ("analysis", "0004_reminder_retry_backoff"),
    ]

    operations = [
        migrations.AddField(
            model_name="assessment",
            name="cost_basis",
            field=models.CharField(blank=True, choices=[("per_unit", "per unit"), ("total", "for the whole quantity")],
                                   max_length=8, verbose_name="the cost impact is"),
        ),
        migrations.AddField(
            model_name="historicalassessment",
            name="cost_basis",
            field=models.CharField(blank=True, choices=[("per_unit", "per unit"), ("total", "for the whole quantity")],
                                   max_length=8, verbose_name="the cost impact is"),
        ),
        migrations.AddField(
            model_name="alternative",
            name="cost_basis",
            field=models.CharField(blank=True, choices=[("per_unit", "per unit"), ("total", "for the whole quantity")],
                                   max_length=8, verbose_name="the cost delta is"),
        ),
        migrations.AddField(
            model_name="historicalalternative",
            name="cost_basis",
            field=models.CharField(blank=True, choices=[("per_unit", "per unit"), ("total", "for the whole quantity")],
                                   max_length=8, verbose_name="the cost delta is"),
        ),
        migrations.AlterField(
            model_name="alternative",
            name="price",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="unit price"),
        ),
        migrations.AlterField(
            model_name="historicalalternative",
            name="price",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="unit price"),
        ),
        migrations.RunPython(fill_in_bases, migrations.RunPython.noop),
    ]
