from django.db import migrations


def forwards(apps, schema_editor):
    """One settings row per reminder rule of the issue, switched on, with its default parameters.
    (A rule added later gets its row from the scan itself; see notification_rules_ensure.)"""
    from crm.notifications import RULES

    rule_model = apps.get_model("crm", "NotificationRule")
    for key, rule in RULES.items():
        rule_model.objects.get_or_create(key=key, defaults={"is_active": True, "params": dict(rule.defaults)})


class Migration(migrations.Migration):
    dependencies = [("crm", "0009_notifications")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
