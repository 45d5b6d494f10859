from django.db import migrations


def seed(apps, schema_editor):
    from service.seed import seed_service_desk

    seed_service_desk(apps.get_model("service", "TicketType"), apps.get_model("service", "SlaPolicy"))


class Migration(migrations.Migration):
    dependencies = [("service", "0003_sla_policies")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
