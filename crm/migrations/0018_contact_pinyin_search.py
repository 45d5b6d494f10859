"""Customers are found by their contacts' pinyin (full and initials) as well as by their names: the
search texts of customers with a Chinese-named contact are worked out again. It calls the service
that keeps search texts today, on purpose: a search text is always what that code makes of it."""
from django.db import migrations

BATCH = 5000


def refresh(apps, schema_editor):
    from crm.services.customers import customers_refresh_search

    Contact = apps.get_model("crm", "Contact")
    ids = (Contact.objects.filter(name__regex=r"[\u4e00-\u9fff]").order_by("customer_id")
           .values_list("customer_id", flat=True).distinct())
    batch = []
    for customer_id in ids.iterator(chunk_size=BATCH):
        batch.append(customer_id)
        if len(batch) == BATCH:
            customers_refresh_search(batch)
            batch = []
    customers_refresh_search(batch)


class Migration(migrations.Migration):
    dependencies = [("crm", "0017_queued_task_outbox")]
    operations = [migrations.RunPython(refresh, migrations.RunPython.noop, elidable=True)]
