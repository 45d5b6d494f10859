"""Platform tasks of the core. Tasks take ids and are safe to run twice."""
from celery import shared_task

from .health import heartbeat_write


@shared_task(name="crm.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat():
    """Beat runs this every 30 s; /healthz reads the stamp to tell that beat and a worker live."""
    heartbeat_write()


@shared_task(name="crm.tasks.ping")
def ping():
    """Answers 'pong' from a worker: used by the worker tests."""
    return "pong"


@shared_task(name="crm.tasks.pool_apply_rules", ignore_result=True)
def pool_apply_rules():
    """Nightly: return customers to their pool by the pools' rules (set-based; safe to run twice)."""
    from .services.pool import pool_rules_apply

    pool_rules_apply()


@shared_task(name="crm.tasks.export_run", ignore_result=True, soft_time_limit=1800, time_limit=1860)
def export_run(export_id):
    """Write one queued customer export to .xlsx (safe to run twice: a finished export is left alone)."""
    from .services.export import export_write

    export_write(export_id=export_id)


@shared_task(name="crm.tasks.import_preview", ignore_result=True, soft_time_limit=1800, time_limit=1860)
def import_preview(batch_id):
    """Read, clean and check every row of an uploaded import (safe to run twice: the staged rows are replaced)."""
    from .services.imports.check import import_preview as preview

    preview(batch_id)


@shared_task(name="crm.tasks.import_commit", ignore_result=True, soft_time_limit=1800, time_limit=1860)
def import_commit(batch_id, by_id):
    """Write a previewed import in one transaction (safe to run twice: a finished batch is not written again)."""
    from .services.imports.commit import import_commit as commit

    commit(batch_id, by_id=by_id)


@shared_task(name="crm.tasks.customers_search_index_merge", ignore_result=True, soft_time_limit=600, time_limit=660)
def customers_search_index_merge():
    """Merge what waits in the customer search index's pending list (after an import; safe to run twice)."""
    from .services.customers import customers_search_index_merge as merge

    merge()


@shared_task(name="crm.tasks.import_search_fill", ignore_result=True, soft_time_limit=600, time_limit=660)
def import_search_fill(batch_id):
    """After an import's commit: the search rows of the customers it created (safe to run twice)."""
    from .services.imports.commit import import_search_fill as fill

    fill(batch_id)


@shared_task(name="crm.tasks.customers_search_repair", ignore_result=True, soft_time_limit=600, time_limit=660)
def customers_search_repair():
    """Hourly: a search row for every customer that has none (safe to run twice)."""
    from .services.customers import customers_search_repair as repair

    repair()


@shared_task(name="crm.tasks.import_undo", ignore_result=True, soft_time_limit=1800, time_limit=1860)
def import_undo(batch_id, by_id, include_edited=False):
    """Undo an import in one transaction (safe to run twice: an undone batch is left alone)."""
    from .services.imports.undo import import_undo as undo

    undo(batch_id, by_id=by_id, include_edited=include_edited)


@shared_task(name="crm.tasks.files_expire", ignore_result=True)
def files_expire():
    """Daily: delete old exports, the uploaded files and staged rows of imports finished long ago, and
    notifications read or resolved long ago (safe to run twice)."""
    from .services.export import export_files_expire
    from .services.imports.report import import_files_expire
    from .services.notifications import notifications_expire

    export_files_expire()
    import_files_expire()
    notifications_expire()


@shared_task(name="crm.tasks.notifications_scan")
def notifications_scan():
    """Beat, every 5 minutes: run every reminder rule (one set-based statement each), then queue the
    e-mails that are due. Safe to run twice, to overlap and to be redelivered after a crash."""
    from .services.notifications import notification_emails_queue
    from .services.notifications import notifications_scan as scan

    results = scan()
    notification_emails_queue()
    return results


@shared_task(name="crm.tasks.notification_emails_queue")
def notification_emails_queue():
    """Beat, every minute: queue the e-mails whose (next) attempt is due, in batches."""
    from .services.notifications import notification_emails_queue as queue

    return queue()


@shared_task(name="crm.tasks.notification_emails_send", ignore_result=True)
def notification_emails_send(ids):
    """Send one batch of e-mails (safe to run twice: a sent one is not sent again)."""
    from .services.notifications import notification_emails_send as send

    return send(ids=ids)


@shared_task(name="crm.tasks.notifications_digests", ignore_result=True)
def notifications_digests():
    """Beat, every 15 minutes: today's morning digest for those whose local time has passed 08:30
    (once per person and day), then queue what is due."""
    from .services.notifications import notification_emails_queue, notifications_digests_queue

    notifications_digests_queue()
    notification_emails_queue()


@shared_task(name="crm.tasks.queued_tasks_send", ignore_result=True)
def queued_tasks_send():
    """Beat, every minute: send the recorded tasks the broker did not take at their commit (crm/queue.py;
    safe to run twice: a sent one is never sent again)."""
    from .lib.queue import queued_tasks_send as send

    return send()
