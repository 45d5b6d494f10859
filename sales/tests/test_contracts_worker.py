"""The overdue job (beat: sales.tasks.instalments_mark_overdue) on a real Celery worker process, on the
real Redis and the test database: it marks what is past due, and a second run changes nothing."""
from decimal import Decimal

import pytest

from crm.celery import app
from sales import services
from sales.tasks import instalments_mark_overdue

from .contract_factories import contract, days, win

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_marks_past_due_instalments_overdue_once(celery_worker_process, deal, rep_east):
    made = contract(win(deal, rep_east), rep_east, [(days(3), 100), (days(5), 200), (days(40), 300)])
    second = made.instalments.get(number=2)
    services.payment_record(by=rep_east, instalment=second, amount=Decimal(50), received_on=days(0))
    queue = celery_worker_process["queue"]
    later = days(10).isoformat()
    assert instalments_mark_overdue.apply_async(kwargs={"today": later}, queue=queue).get(timeout=30) == 2
    assert list(made.instalments.order_by("number").values_list("status", flat=True)) == [
        "overdue", "overdue", "due"]
    assert instalments_mark_overdue.apply_async(kwargs={"today": later}, queue=queue).get(timeout=30) == 0
    assert instalments_mark_overdue.apply_async(queue=queue).get(timeout=30) == 0  # today: nothing is due yet


def test_beat_names_the_overdue_task():
    app.loader.import_default_modules()
    assert app.conf.beat_schedule["instalments-mark-overdue"]["task"] == instalments_mark_overdue.name
    assert instalments_mark_overdue.name in app.tasks
