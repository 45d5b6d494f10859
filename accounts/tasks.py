from celery import shared_task

from . import services


@shared_task(name="accounts.tasks.shares_expire")
def shares_expire():
    """Beat: remove shares past their end date. Idempotent: a second run removes nothing."""
    return services.shares_expire()
