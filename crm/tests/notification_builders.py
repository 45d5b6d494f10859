"""Records that raise reminders, built straight in the database (the rules read columns, so the
tests set the columns: a deal long in its stage, an approval requested days ago)."""
import datetime
from decimal import Decimal

from django.utils import timezone

from crm.models import Notification
from crm.services.notifications import notifications_scan


def ago(**delta):
    return timezone.now() - datetime.timedelta(**delta)


def scan(**kwargs):
    return notifications_scan(**kwargs)


def raised(rule=None, **filters):
    qs = Notification.objects.all()
    if rule:
        qs = qs.filter(rule=rule)
    return qs.filter(**filters)


def stage(name="方案评审", stale_after_days=10, kind="open"):
    from sales.models import Pipeline, Stage

    pipeline, _ = Pipeline.objects.get_or_create(name="提醒测试流程")
    return Stage.objects.create(pipeline=pipeline, name=name, kind=kind, probability=40,
                                stale_after_days=stale_after_days)


def deal(customer, owner, *, stage_=None, entered=None, expected_close=None, closed=False, name="仓储系统"):
    from sales.models import Opportunity

    stage_ = stage_ or stage()
    return Opportunity.objects.create(
        customer=customer, name=name, pipeline=stage_.pipeline, stage=stage_, probability=40, owner=owner,
        team=owner.team, stage_entered_at=entered or timezone.now(), expected_close=expected_close,
        closed_at=timezone.now() if closed else None)


def pending_approval(opportunity, *, approver=None, role=None, hours_ago=30, number="Q-REM-001"):
    from sales.models import Quote, QuoteApproval

    quote = Quote.objects.create(opportunity=opportunity, number=number, title="仓储系统报价", status="pending",
                                 submitted_at=ago(hours=hours_ago))
    approval = QuoteApproval.objects.create(quote=quote, discount_percent=Decimal("15"), approver=approver,
                                            approver_role=role)
    QuoteApproval.objects.filter(pk=approval.pk).update(requested_at=ago(hours=hours_ago))
    return approval


def overdue_instalment(opportunity, *, number="HT-REM-001"):
    from sales.models import Contract, Instalment

    signed_on = timezone.localdate() - datetime.timedelta(days=60)
    contract = Contract.objects.create(opportunity=opportunity, number=number, title="仓储系统合同",
                                       amount=Decimal("100000"), signed_on=signed_on)
    due_on = timezone.localdate() - datetime.timedelta(days=5)
    return Instalment.objects.create(contract=contract, number=1, due_on=due_on, amount=Decimal("50000"),
                                     status="overdue")
