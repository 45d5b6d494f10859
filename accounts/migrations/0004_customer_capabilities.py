from django.db import migrations


def forwards(apps, schema_editor):
    from accounts.seed import seed_roles_0003

    seed_roles_0003(apps.get_model("accounts", "Role"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_alter_role_capabilities_alter_role_landing_page_and_more")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
