from django.db import migrations, models
from django.db.models import F

CURRENCIES = [("EUR", "EUR"), ("USD", "USD"), ("GBP", "GBP"), ("CHF", "CHF")]


def cost_in_the_price_currency(apps, schema_editor):
    """Until now one currency stood for both the unit price and the cost delta: every cost delta
    recorded so far is in its alternative's currency. The new column starts at EUR, so only the
    rows (and history rows) in another currency are rewritten."""
    for name in ("Alternative", "HistoricalAlternative"):
        model = apps.get_model("analysis", name)
        model.objects.exclude(currency="EUR").update(cost_currency=F("currency"))


class Migration(migrations.Migration):

    dependencies = [
        ("analysis", "0008_improvement_actions"),
    ]

    operations = [
        migrations.AddField(
            model_name="alternative",
            name="cost_currency",
            field=models.CharField(choices=CURRENCIES, default="EUR", max_length=3, verbose_name="currency of the cost delta"),
        ),
        migrations.AddField(
            model_name="historicalalternative",
            name="cost_currency",
            field=models.CharField(choices=CURRENCIES, default="EUR", max_length=3, verbose_name="currency of the cost delta"),
        ),
        migrations.AlterField(
            model_name="alternative",
            name="currency",
            field=models.CharField(choices=CURRENCIES, default="EUR", max_length=3, verbose_name="currency of the unit price"),
        ),
        migrations.AlterField(
            model_name="historicalalternative",
            name="currency",
            field=models.CharField(choices=CURRENCIES, default="EUR", max_length=3, verbose_name="currency of the unit price"),
        ),
        migrations.RunPython(cost_in_the_price_currency, migrations.RunPython.noop, elidable=True),
    ]
