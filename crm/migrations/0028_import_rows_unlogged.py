"""The staged rows of a check (ImportRow) are an unlogged table: they can always be made again from
the batch's file, so they need no write-ahead log. Staging 100,000 rows wrote some 150 MB of WAL,
enough with the commit's to start a checkpoint in the middle of the next import, after which each
index page it touches first is written to the WAL whole. A crash of the database server empties an
unlogged table: the commit then refuses the batch and asks for a new check (import_commit)."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0027_import_row_flagged"),
    ]

    operations = [
        migrations.RunSQL("ALTER TABLE crm_importrow SET UNLOGGED", "ALTER TABLE crm_importrow SET LOGGED"),
    ]
