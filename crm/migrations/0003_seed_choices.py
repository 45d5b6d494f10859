from django.db import migrations


def forwards(apps, schema_editor):
    from crm.seed import seed_choices

    seed_choices(apps.get_model("crm", "Choice"))


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_customer_record")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
