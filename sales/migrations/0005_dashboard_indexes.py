"""Indexes for the sales dashboard (reports.selectors): deals closed in a period, deals created in a
period, and the open deals, each covering the columns the dashboard's figures read."""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("sales", "0004_seed_numbering_and_rules")]

    operations = [
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(condition=models.Q(("closed_at__isnull", False)), fields=["closed_at"],
                               include=["pipeline", "stage", "owner", "team", "amount", "probability", "created_at"],
                               name="opportunity_dash_closed"),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(fields=["pipeline", "created_at"], include=["owner", "team"],
                               name="opportunity_dash_created"),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(condition=models.Q(("closed_at", None)), fields=["team", "owner"],
                               include=["id", "pipeline", "stage", "amount", "probability", "expected_close",
                                        "stage_entered_at", "closed_at"],
                               name="opportunity_dash_open"),
        ),
    ]
