from django.db import migrations


def forwards(apps, schema_editor):
    from sales.seed import seed_sales_defaults

    seed_sales_defaults(apps.get_model("sales", "DocumentNumbering"), apps.get_model("sales", "DiscountRule"),
                        apps.get_model("accounts", "Role"))


class Migration(migrations.Migration):
    dependencies = [("sales", "0003_quotes_contracts_targets"), ("accounts", "0005_target_capability")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
