from django.db import migrations


def forwards(apps, schema_editor):
    """The lost reasons (a picklist added with sales) for installations seeded before it."""
    from crm.seed import seed_choices

    seed_choices(apps.get_model("crm", "Choice"))


class Migration(migrations.Migration):
    dependencies = [("crm", "0007_alter_choice_kind")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
