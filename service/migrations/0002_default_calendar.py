from django.db import migrations


def seed(apps, schema_editor):
    from service.seed import seed_default_calendar

    seed_default_calendar(apps.get_model("service", "WorkCalendar"), apps.get_model("service", "WorkWindow"),
                          apps.get_model("service", "CalendarDay"))


class Migration(migrations.Migration):
    dependencies = [("service", "0001_working_calendars")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
