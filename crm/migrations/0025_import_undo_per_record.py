"""Undo per record: each ImportRecord says whether its undo was applied (and the customer's version
after a restore), and a batch whose undo left customers is "partly undone" and can be undone again.
Batches undone before this: their records of customers not listed as conflicts are marked undone
(when they were, without a version: that one was not kept), and those with conflicts become partly
undone, so their undo can be run again."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crm', '0024_import_column_guesses'),
    ]

    operations = [
        migrations.AddField(
            model_name='importrecord',
            name='undone_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='importrecord',
            name='undone_version',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='importbatch',
            name='status',
            field=models.CharField(choices=[('uploaded', 'Uploaded'), ('previewing', 'Checking rows'), ('previewed', 'Checked, waiting to import'), ('committing', 'Importing'), ('done', 'Imported'), ('failed', 'Failed'), ('cancelled', 'Cancelled'), ('undoing', 'Undoing'), ('undone', 'Undone'), ('partly_undone', 'Partly undone')], default='uploaded', max_length=16, verbose_name='status'),
        ),
        migrations.AddIndex(
            model_name='importrecord',
            index=models.Index(condition=models.Q(('undone_version__isnull', False)), fields=['customer'], name='importrecord_undone_customer'),
        ),
        migrations.RunSQL(
            """
            UPDATE crm_importrecord rec SET undone_at = b.undone_at
            FROM crm_importbatch b
            WHERE b.id = rec.batch_id AND b.status = 'undone' AND NOT EXISTS (
                SELECT 1 FROM jsonb_array_elements(b.conflicts) x WHERE (x->>'id')::bigint = rec.customer_id);
            UPDATE crm_importbatch SET status = 'partly_undone'
            WHERE status = 'undone' AND jsonb_array_length(conflicts) > 0;
            """,
            migrations.RunSQL.noop,
        ),
    ]
