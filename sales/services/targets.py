"""Sales targets (销售目标): a won amount and a number of won deals per rep or per team for a month or
a quarter, set by holders of sales.target:manage for the teams and reps within their sales scope
(a 区域经理 for their region, a 销售总监 for everyone). Each write is audited."""
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from accounts.access import user_access
from accounts.capabilities import Capability
from accounts.services import audited

from ..models import Target, TargetPeriod
from ..selectors.targets import period_start, targets_in_scope, teams_for_targets, users_for_targets

__all__ = ["target_delete", "target_save", "targets_save"]


def _require_manage(by):
    if not user_access(by).has(Capability.MANAGE_TARGETS):
        raise PermissionDenied


def _require_subject(by, *, user, team):
    if (user is None) == (team is None):
        raise ValidationError(_("A target is for one rep or one team."))
    allowed = (users_for_targets(by).filter(pk=user.pk) if user is not None
               else teams_for_targets(by).filter(pk=team.pk))
    if not allowed.exists():
        raise PermissionDenied(_("%(name)s is outside the teams you set targets for.") % {"name": user or team})


def target_save(*, by, period, starts_on, user=None, team=None, amount, count):
    """Set (create or change) the target of one rep or team for the month or quarter containing
    `starts_on` (stored as its first day). `by` needs sales.target:manage and the rep or team must be
    within their sales scope (PermissionDenied otherwise)."""
    _require_manage(by)
    if period not in TargetPeriod.values:
        raise ValidationError({"period": _("Choose a month or a quarter.")})
    _require_subject(by, user=user, team=team)
    amount, count = Decimal(amount or 0), int(count or 0)
    if amount < 0 or count < 0:
        raise ValidationError(_("A target cannot be negative."))
    with audited(by, "target_save"):
        target, _created = Target.objects.update_or_create(
            period=period, starts_on=period_start(period, starts_on), user=user, team=team,
            defaults={"amount": amount.quantize(Decimal("0.01")), "count": count, "set_by": by})
    return target


def target_delete(*, by, target):
    """Remove a target of a rep or team within `by`'s scope."""
    _require_manage(by)
    if not targets_in_scope(by).filter(pk=target.pk).exists():
        raise PermissionDenied
    with audited(by, "target_delete"):
        target.delete()


def targets_save(*, by, period, starts_on, changes):
    """Several targets of one period in one transaction (the targets page's grid): each change is a
    dict with `user` or `team` and amount and count, both None to remove that target. All or none."""
    with audited(by, "targets_save"):
        for change in changes:
            user, team = change.get("user"), change.get("team")
            if change["amount"] is None and change["count"] is None:
                existing = Target.objects.filter(period=period, starts_on=period_start(period, starts_on),
                                                 user=user, team=team).first()
                if existing is not None:
                    target_delete(by=by, target=existing)
                continue
            target_save(by=by, period=period, starts_on=starts_on, user=user, team=team,
                        amount=change["amount"], count=change["count"])
    return len(changes)
