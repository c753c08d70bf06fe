from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("analysis", "0005_costs_say_their_basis"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="assessment",
            constraint=models.CheckConstraint(condition=models.Q(("cost_impact__isnull", True), models.Q(("cost_basis", ""), _negated=True), _connector="OR"),
                                              name="analysis_assessment_cost_has_basis"),
        ),
        migrations.AddConstraint(
            model_name="alternative",
            constraint=models.CheckConstraint(condition=models.Q(("cost_delta__isnull", True), models.Q(("cost_basis", ""), _negated=True), _connector="OR"),
                                              name="analysis_alternative_cost_has_basis"),
        ),
    ]
